// Checks over UDP: one request datagram on a connected socket, then replies until one decides or
// the timeout does. An ICMP port unreachable is a failure at once (the connected socket's
// ECONNREFUSED). UdpProbe is keepalived's UDP_CHECK, DnsProbe its DNS_CHECK (healthcheck/Dns.h).
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/Asio.h"
#include "healthcheck/Probe.h"
#include "healthcheck/SocketSource.h"

namespace healthcheck {

struct UdpTarget {
    asio::ip::udp::endpoint endpoint;
    SocketSource source;
    std::chrono::microseconds timeout{5'000'000};
};

// One exchange: sends `request`, hands each reply to `onReply` (nullopt: not an answer to us, wait
// on), and on the deadline asks `onTimeout`.
class DatagramExchange : public std::enable_shared_from_this<DatagramExchange> {
public:
    using OnReply = std::function<std::optional<ProbeResult>(std::string_view)>;
    using OnTimeout = std::function<ProbeResult()>;
    using Done = std::function<void(ProbeResult)>;
    // Replies longer than `bufferSize` are seen cut to it (their real length is not needed beyond).
    DatagramExchange(asio::io_context& io, UdpTarget target, std::string request, std::size_t bufferSize,
                     OnReply onReply, OnTimeout onTimeout);
    void start(Done done);
    void cancel();

private:
    void receive();
    void finish(ProbeResult r);
    asio::ip::udp::socket socket_;
    asio::steady_timer timer_;
    UdpTarget target_;
    std::string request_;
    OnReply onReply_;
    OnTimeout onTimeout_;
    Done done_;
    std::chrono::steady_clock::time_point start_;
    bool finished_ = false;
    std::unique_ptr<char[]> buffer_;  // not zeroed: only what a reply wrote is read
    std::size_t bufferSize_;
};

// What a udp check requires of the reply (keepalived's UDP_CHECK).
struct UdpExpect {
    std::string payload;  // sent; empty: 32 filler bytes
    bool requireReply = false;
    std::string reply, mask;  // the reply starts with these bytes; mask bit 1: not compared
    std::size_t minLength = 0, maxLength = 255;
};

// keepalived's rule: with reply bytes, the reply's length must be within the bounds and its first
// min(length, reply bytes) octets equal the reply bytes outside the mask; without, any reply does.
bool udpReplyMatches(const UdpExpect& e, std::string_view got);

class UdpProbe : public Probe {
public:
    UdpProbe(asio::io_context& io, UdpTarget target, UdpExpect expect)
        : io_(io), target_(std::move(target)), expect_(std::move(expect)) {}
    ~UdpProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    asio::io_context& io_;
    UdpTarget target_;
    UdpExpect expect_;
    std::shared_ptr<DatagramExchange> attempt_;
};

class DnsProbe : public Probe {
public:
    // `name`: "" for the root; `type`: the record type's code (dns::typeCode).
    DnsProbe(asio::io_context& io, UdpTarget target, std::string name, std::uint16_t type)
        : io_(io), target_(std::move(target)), name_(std::move(name)), type_(type) {}
    ~DnsProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    asio::io_context& io_;
    UdpTarget target_;
    std::string name_;
    std::uint16_t type_;
    std::shared_ptr<DatagramExchange> attempt_;
};

}  // namespace healthcheck
