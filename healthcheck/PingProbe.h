// PingProbe (keepalived's PING_CHECK): an ICMP or ICMPv6 echo to the real server, up when the reply
// comes within the timeout; an ICMP destination unreachable or time exceeded quoting our echo fails
// at once. All the ping checks of a loop share one raw socket per family (IcmpSocket): requests
// carry the socket's identifier and a sequence number of their own, and replies are matched to the
// probe by both and by the address they come from. Raw ICMP sockets need CAP_NET_RAW (the lvs
// worker keeps it when the config has ping checks).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/Asio.h"
#include "healthcheck/Probe.h"

namespace healthcheck {

// What one datagram read from a raw ICMP socket says about our echoes (pure; fuzzed).
struct IcmpReading {
    enum Kind { Other, Reply, Unreachable } kind = Other;
    std::uint16_t seq = 0;
};
// `v4`: the datagram starts with the IPv4 header (a raw IPv4 socket's reads do; IPv6 ones do not).
IcmpReading readIcmp(std::string_view datagram, bool v4, std::uint16_t ident);
// An echo request with `ident` and `seq` (and its checksum for ICMPv4; the kernel sums ICMPv6).
std::string echoRequest(bool v4, std::uint16_t ident, std::uint16_t seq);

class IcmpSocket : public std::enable_shared_from_this<IcmpSocket> {
public:
    using Answer = std::function<void(IcmpReading::Kind)>;
    // The loop's socket of that family, opened on first use; null with `error` when it cannot be.
    static std::shared_ptr<IcmpSocket> shared(asio::io_context& io, bool v4, boost::system::error_code& error);
    IcmpSocket(asio::io_context& io, bool v4);
    ~IcmpSocket();
    // Sends an echo to `to`; `answer` runs once on its reply or an error quoting it, never after
    // forget(seq). Returns the sequence number.
    std::uint16_t send(const asio::ip::address& to, Answer answer, boost::system::error_code& error);
    void forget(std::uint16_t seq);

private:
    void receive();
    asio::io_context& io_;
    bool v4_;
    asio::ip::icmp::socket socket_;
    std::uint16_t ident_;
    std::uint16_t next_ = 0;
    struct Waiting {
        asio::ip::address to;
        Answer answer;
    };
    std::map<std::uint16_t, Waiting> waiting_;
    std::array<char, 1500> buf_;
    asio::ip::icmp::endpoint from_;
    bool receiving_ = false;
};

class PingProbe : public Probe {
public:
    PingProbe(asio::io_context& io, asio::ip::address target, std::chrono::microseconds timeout)
        : io_(io), target_(target), timeout_(timeout), timer_(io) {}
    ~PingProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    void finish(ProbeResult r);
    asio::io_context& io_;
    asio::ip::address target_;
    std::chrono::microseconds timeout_;
    asio::steady_timer timer_;
    std::shared_ptr<IcmpSocket> socket_;
    std::optional<std::uint16_t> seq_;
    Done done_;
    std::chrono::steady_clock::time_point start_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // what a posted handler checks first
};

}  // namespace healthcheck
