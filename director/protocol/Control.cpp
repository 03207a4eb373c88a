#include "director/protocol/Control.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/Wire.h"

namespace director::protocol {

using base::wire::Is;

template <class T, class F>
requires Is<T, ControlRequest>
void fields(T& x, F&& f) { f(x.kind, x.args, x.input, x.json); }
template <class T, class F>
requires Is<T, ControlReply>
void fields(T& x, F&& f) { f(x.status, x.out, x.err); }

std::string encode(const ControlRequest& r) { return frameBytes(kControlRequest, base::wire::encode(r)); }
std::string encode(const ControlReply& r) { return frameBytes(kControlReply, base::wire::encode(r)); }

std::optional<ControlRequest> decodeRequest(const Frame& f) {
    if (f.type != kControlRequest) return std::nullopt;
    auto r = base::wire::decode<ControlRequest>(f.payload);
    if (r && r->kind > ControlRequest::Kind::Rejoin) return std::nullopt;
    return r;
}

std::optional<ControlReply> decodeReply(const Frame& f) {
    if (f.type != kControlReply) return std::nullopt;
    return base::wire::decode<ControlReply>(f.payload);
}

base::Result<ControlReply> call(const std::string& socketPath, const ControlRequest& request) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (socketPath.size() >= sizeof sa.sun_path) return base::errnoCode(ENAMETOOLONG);
    std::memcpy(sa.sun_path, socketPath.c_str(), socketPath.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return base::errnoCode(errno);
    auto fail = [fd](int e) {
        ::close(fd);
        return base::Result<ControlReply>(base::errnoCode(e));
    };
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return fail(errno);
    const std::string out = encode(request);
    for (size_t off = 0; off < out.size();) {
        const ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(errno ? errno : EPIPE);
        off += static_cast<size_t>(n);
    }
    FrameReader in(kMaxControlFrame);
    char buf[65536];
    while (true) {
        if (auto f = in.next()) {
            ::close(fd);
            auto reply = decodeReply(*f);
            if (!reply) return base::errnoCode(EPROTO);
            return *reply;
        }
        if (in.broken()) return fail(EPROTO);
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno);
        if (n == 0) return fail(EPROTO);  // closed without a whole reply
        in.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace director::protocol
