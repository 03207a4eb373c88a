#include "healthcheck/PingProbe.h"

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <openssl/rand.h>

#include <array>
#include <cerrno>

#include "healthcheck/SocketErrors.h"

namespace healthcheck {
namespace {

constexpr std::uint8_t kEchoRequest4 = 8, kEchoReply4 = 0, kUnreach4 = 3, kTimeExceeded4 = 11;
constexpr std::uint8_t kEchoRequest6 = 128, kEchoReply6 = 129, kUnreach6 = 1, kTimeExceeded6 = 3;
constexpr std::size_t kIcmpHeader = 8, kIpv6Header = 40;
constexpr std::string_view kPayload = "directord ping check";  // 20 bytes: a 48-byte IPv4 packet

std::uint8_t at(std::string_view d, std::size_t i) { return static_cast<std::uint8_t>(d[i]); }
std::uint16_t be16(std::string_view d, std::size_t i) {
    return static_cast<std::uint16_t>((at(d, i) << 8) | at(d, i + 1));
}

// The IPv4 header's length, or 0 when `d` does not start with a plausible one.
std::size_t ipv4Header(std::string_view d) {
    if (d.size() < 20 || (at(d, 0) >> 4) != 4) return 0;
    const std::size_t ihl = static_cast<std::size_t>(at(d, 0) & 0x0f) * 4;
    return ihl >= 20 && ihl <= d.size() ? ihl : 0;
}

// An echo request header of ours inside an ICMP error: its sequence number.
std::optional<std::uint16_t> quotedEcho(std::string_view inner, bool v4, std::uint16_t ident) {
    std::size_t off = 0;
    if (v4) {
        off = ipv4Header(inner);
        if (off == 0 || at(inner, 9) != 1) return std::nullopt;  // the quoted packet is ICMP
    } else {
        if (inner.size() < kIpv6Header || (at(inner, 0) >> 4) != 6 || at(inner, 6) != 58) return std::nullopt;
        off = kIpv6Header;
    }
    if (inner.size() < off + kIcmpHeader) return std::nullopt;
    const auto icmp = inner.substr(off);
    if (at(icmp, 0) != (v4 ? kEchoRequest4 : kEchoRequest6) || be16(icmp, 4) != ident) return std::nullopt;
    return be16(icmp, 6);
}

std::uint16_t checksum(std::string_view d) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += be16(d, i);
    if (d.size() % 2) sum += static_cast<std::uint32_t>(at(d, d.size() - 1)) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace

IcmpReading readIcmp(std::string_view d, bool v4, std::uint16_t ident) {
    if (v4) {
        const std::size_t ihl = ipv4Header(d);
        if (ihl == 0) return {};
        d.remove_prefix(ihl);
    }
    if (d.size() < kIcmpHeader) return {};
    const std::uint8_t type = at(d, 0);
    if (type == (v4 ? kEchoReply4 : kEchoReply6)) {
        if (at(d, 1) != 0 || be16(d, 4) != ident) return {};
        return {IcmpReading::Reply, be16(d, 6)};
    }
    const bool error = v4 ? (type == kUnreach4 || type == kTimeExceeded4) : (type == kUnreach6 || type == kTimeExceeded6);
    if (!error) return {};
    if (auto seq = quotedEcho(d.substr(kIcmpHeader), v4, ident)) return {IcmpReading::Unreachable, *seq};
    return {};
}

std::string echoRequest(bool v4, std::uint16_t ident, std::uint16_t seq) {
    std::string p(kIcmpHeader, '\0');
    p[0] = static_cast<char>(v4 ? kEchoRequest4 : kEchoRequest6);
    p[4] = static_cast<char>(ident >> 8);
    p[5] = static_cast<char>(ident & 0xff);
    p[6] = static_cast<char>(seq >> 8);
    p[7] = static_cast<char>(seq & 0xff);
    p.append(kPayload);
    if (v4) {
        const std::uint16_t sum = checksum(p);
        p[2] = static_cast<char>(sum >> 8);
        p[3] = static_cast<char>(sum & 0xff);
    }
    return p;
}

std::shared_ptr<IcmpSocket> IcmpSocket::shared(asio::io_context& io, bool v4, boost::system::error_code& error) {
    // one per loop and family, for as long as a probe holds it
    static std::map<std::pair<asio::io_context*, bool>, std::weak_ptr<IcmpSocket>> sockets;
    auto& slot = sockets[{&io, v4}];
    if (auto s = slot.lock()) return s;
    auto s = std::make_shared<IcmpSocket>(io, v4);
    s->socket_.open(v4 ? asio::ip::icmp::v4() : asio::ip::icmp::v6(), error);
    if (error) return nullptr;
    // the kernel passes this socket only what a ping check reads: echo replies and errors
    const int fd = s->socket_.native_handle();
    if (v4) {
        icmp_filter f{};
        f.data = ~((1u << kEchoReply4) | (1u << kUnreach4) | (1u << kTimeExceeded4));
        ::setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f);
    } else {
        icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(kEchoReply6, &f);
        ICMP6_FILTER_SETPASS(kUnreach6, &f);
        ICMP6_FILTER_SETPASS(kTimeExceeded6, &f);
        ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    }
    slot = s;
    return s;
}

IcmpSocket::IcmpSocket(asio::io_context& io, bool v4) : io_(io), v4_(v4), socket_(io) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&ident_), sizeof ident_) != 1)
        ident_ = static_cast<std::uint16_t>(reinterpret_cast<std::uintptr_t>(this) >> 4);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&next_), sizeof next_) != 1) next_ = 1;
}

IcmpSocket::~IcmpSocket() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

std::uint16_t IcmpSocket::send(const asio::ip::address& to, Answer answer, boost::system::error_code& error) {
    std::uint16_t seq = next_++;
    while (waiting_.contains(seq)) seq = next_++;  // 65,536 checks in flight at once would spin here
    const std::string packet = echoRequest(v4_, ident_, seq);
    socket_.send_to(asio::buffer(packet), asio::ip::icmp::endpoint(to, 0), 0, error);
    if (error) return seq;
    waiting_[seq] = Waiting{to, std::move(answer)};
    if (!receiving_) receive();
    return seq;
}

void IcmpSocket::forget(std::uint16_t seq) { waiting_.erase(seq); }

void IcmpSocket::receive() {
    receiving_ = true;
    auto self = shared_from_this();
    socket_.async_receive_from(asio::buffer(buf_), from_, [self](const boost::system::error_code& ec, std::size_t n) {
        self->receiving_ = false;
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            const auto r = readIcmp(std::string_view(self->buf_.data(), n), self->v4_, self->ident_);
            if (r.kind != IcmpReading::Other)
                if (auto it = self->waiting_.find(r.seq); it != self->waiting_.end()) {
                    // a reply counts from the address asked; an error may come from a router
                    if (r.kind == IcmpReading::Unreachable || self->from_.address() == it->second.to) {
                        auto answer = std::move(it->second.answer);
                        self->waiting_.erase(it);
                        answer(r.kind);
                    }
                }
        }
        if (!self->waiting_.empty()) self->receive();  // only while someone waits: no idle reads
    });
}

void PingProbe::finish(ProbeResult r) {
    timer_.cancel();
    if (socket_ && seq_) socket_->forget(*seq_);
    seq_.reset();
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
    auto d = std::move(done_);
    if (d) d(std::move(r));
}

void PingProbe::run(Done done) {
    cancel();
    done_ = std::move(done);
    start_ = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    if (!socket_) socket_ = IcmpSocket::shared(io_, target_.is_v4(), ec);
    if (socket_) {
        seq_ = socket_->send(
            target_,
            [this](IcmpReading::Kind kind) {
                seq_.reset();  // answered: already forgotten by the socket
                finish(kind == IcmpReading::Reply ? ProbeResult::success() : ProbeResult::fail(Failure::Unreachable));
            },
            ec);
    }
    if (ec) {
        seq_.reset();
        asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), ec] {
            if (alive.lock() && done_) finish(fromSocketError(ec));
        });
        return;
    }
    timer_.expires_after(timeout_);
    timer_.async_wait([this](const boost::system::error_code& tec) {
        if (!tec) finish(ProbeResult::fail(Failure::Timeout));
    });
}

void PingProbe::cancel() {
    timer_.cancel();
    if (socket_ && seq_) socket_->forget(*seq_);
    seq_.reset();
    done_ = nullptr;
}

}  // namespace healthcheck
