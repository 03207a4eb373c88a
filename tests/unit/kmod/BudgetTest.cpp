// The userspace plane's descriptor budget as logic: per-source shares by prefix (an IPv6 /64 is
// one source however it rotates), and past three quarters of a limit only a prefix that holds
// nothing gets one, so many flooding sources leave room for new clients.
#include <catch2/catch.hpp>

#include "kmod/userspace/Budget.h"

using kmod::userspace::Budget;
using base::IpAddress;

namespace {

IpAddress v4(std::uint32_t n) { return IpAddress::v4(0x0a000000 + n); }

IpAddress v6(std::uint16_t host) {
    auto a = *IpAddress::parse("2001:db8:1:2::1");
    auto b = a.bytes();
    b[14] = static_cast<std::uint8_t>(host >> 8);
    b[15] = static_cast<std::uint8_t>(host);
    b[9] = static_cast<std::uint8_t>(host * 7);  // anywhere in the /64's host half
    return IpAddress::fromBytes(base::Family::V6, b.data());
}

}  // namespace

TEST_CASE("budget: one IPv6 /64 rotating its addresses is one source") {
    Budget b;
    kmod::ForwardingLimits l;
    l.tcpConnections = 1000;
    l.tcpConnectionsPerSource = 10;
    b.configure(l);
    int taken = 0;
    for (std::uint16_t i = 0; i < 500; ++i) taken += b.takeTcp(v6(i));
    CHECK(taken == 10);
    // another /64 is another source
    auto other = *IpAddress::parse("2001:db8:1:3::1");
    CHECK(b.takeTcp(other));
    // a narrower prefix, configured: each /96 its own
    l.sourcePrefixV6 = 128;
    b.configure(l);
    CHECK(b.takeTcp(v6(9999)));
}

TEST_CASE("budget: a thousand IPv4 sources cannot take the last quarter from a new client") {
    Budget b;
    kmod::ForwardingLimits l;
    l.tcpConnections = 2000;
    l.tcpConnectionsPerSource = 250;
    b.configure(l);
    // 1,000 sources, each trying for ten
    int taken = 0;
    for (int round = 0; round < 10; ++round)
        for (std::uint32_t s = 0; s < 1000; ++s) taken += b.takeTcp(v4(s));
    const auto c = b.counters();
    CHECK(taken == static_cast<int>(c.tcpConnections));
    CHECK(c.tcpConnections == 1500);  // the flood stopped at three quarters
    for (std::uint32_t s = 5000; s < 5100; ++s) CHECK(b.takeTcp(v4(s)));  // new clients get in
    // an IPv4 /24 counts as one when configured so
    l.sourcePrefixV4 = 24;
    b.configure(l);
    Budget c24;
    c24.configure(l);
    int same24 = 0;
    for (std::uint32_t s = 0; s < 255; ++s) same24 += c24.takeTcp(v4(s));
    CHECK(same24 == 250);
}

TEST_CASE("budget: units come back under the prefix they were taken under") {
    Budget b;
    kmod::ForwardingLimits l;
    l.udpFlows = 100;
    l.udpFlowsPerSource = 2;
    b.configure(l);
    CHECK(b.takeUdp(v6(1)));
    CHECK(b.takeUdp(v6(2)));
    CHECK_FALSE(b.takeUdp(v6(3)));
    b.giveUdp(v6(1));
    CHECK(b.takeUdp(v6(4)));
    b.giveUdp(v6(2));
    b.giveUdp(v6(4));
    CHECK(b.counters().udpFlows == 0);
}
