#include "director/lvs/ControlServer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "base/Log.h"
#include "director/AcceptBackoff.h"

namespace director::lvs {

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io), retry_(io) {}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start() {
    using asio::local::stream_protocol;
    boost::system::error_code ec;
    // Someone answering there? Then it is another directord's: leave it alone.
    {
        stream_protocol::socket probe(io_);
        probe.connect(stream_protocol::endpoint(path_), ec);
        if (!ec) {
            base::log::error("control: ", path_,
                             " is in use by another process; no control socket for this directord"
                             " (give it its own control_socket)");
            return false;
        }
    }
    // What sits there: nothing, or a socket no one answers on (left by a crash) is ours to replace;
    // anything else is not ours to delete.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            base::log::error("control: ", path_,
                             " exists and is not a socket; leaving it alone, and no control socket"
                             " for this directord (remove it, or set another global.control_socket)");
            return false;
        }
        ::unlink(path_.c_str());  // a stale socket from a crash
    }
    const mode_t old = ::umask(0177);  // 0600: root only
    acceptor_.open(stream_protocol(), ec);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(path_), ec);
    ::umask(old);
    if (!ec) acceptor_.listen(16, ec);
    if (ec) {
        base::log::error("control: cannot listen on ", path_, ": ", ec.message(),
                         "; directorctl will not reach this directord");
        return false;
    }
    owned_ = true;
    accept();
    return true;
}

void ControlServer::stop() {
    boost::system::error_code ec;
    retry_.cancel();
    acceptor_.close(ec);
    if (owned_) ::unlink(path_.c_str());
    owned_ = false;
}

namespace {

// One connection: one request frame in (within 5 s), one reply frame out, then close.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(asio::io_context& io, asio::local::stream_protocol::socket sock, ControlServer::Handler& handler)
        : sock_(std::move(sock)), timer_(io, std::chrono::seconds(5)), handler_(handler) {}

    void start() {
        auto self = shared_from_this();
        timer_.async_wait([self](const boost::system::error_code& ec) {
            boost::system::error_code ignore;
            if (!ec) self->sock_.close(ignore);  // a client that never sends its request
        });
        read();
    }

private:
    void read() {
        auto self = shared_from_this();
        sock_.async_read_some(asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t n) {
            if (ec) {
                self->timer_.cancel();
                return;
            }
            self->in_.append(self->buf_.data(), n);
            if (auto f = self->in_.next()) {
                self->timer_.cancel();
                auto request = protocol::decodeRequest(*f);
                if (!request) return self->reply(protocol::ControlReply{2, "", "error: not a control request\n"});
                return self->handler_(std::move(*request),
                                      [self](protocol::ControlReply r) { self->reply(std::move(r)); });
            }
            if (self->in_.broken()) {
                self->timer_.cancel();
                return self->reply(protocol::ControlReply{2, "", "error: request too big\n"});
            }
            self->read();
        });
    }

    void reply(protocol::ControlReply r) {
        if (answered_) return;
        answered_ = true;
        out_ = protocol::encode(r);
        auto self = shared_from_this();
        asio::async_write(sock_, asio::buffer(out_), [self](const boost::system::error_code&, size_t) {
            boost::system::error_code ignore;
            self->sock_.shutdown(asio::socket_base::shutdown_both, ignore);
        });
    }

    asio::local::stream_protocol::socket sock_;
    asio::steady_timer timer_;
    ControlServer::Handler& handler_;
    protocol::FrameReader in_{protocol::kMaxControlFrame};
    std::array<char, 65536> buf_{};
    std::string out_;
    bool answered_ = false;
};

}  // namespace

void ControlServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::local::stream_protocol::socket s) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) std::make_shared<Session>(io_, std::move(s), handler_)->start();
        if (backOffAccept(ec, retry_, saidFull_, "control", [this] {
                if (acceptor_.is_open()) accept();
            }))
            return;
        if (!ec) saidFull_ = false;
        accept();
    });
}

}  // namespace director::lvs
