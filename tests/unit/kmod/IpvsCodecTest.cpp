// The IPVS netlink codec against bytes recorded in the IPVS VM (strace -xx of Debian's ipvsadm and
// of the kernel's replies to it).
#include <catch2/catch.hpp>

#include <linux/netlink.h>

#include <cstring>

#include "kmod/netlink/IpvsCodec.h"

using namespace kmod;
using namespace kmod::netlink;

namespace {

netlink::Bytes bytes(const char* s, size_t n) {
    return netlink::Bytes(reinterpret_cast<const std::uint8_t*>(s), reinterpret_cast<const std::uint8_t*>(s) + n);
}
#define BYTES(lit) bytes(lit, sizeof(lit) - 1)

Service webService() {
    Service s;
    s.key = ServiceKey::inet(*base::IpAddress::parse("192.0.2.10"), kTcp, 80);
    s.scheduler = "wrr";
    s.flags = kSvcPersistent;
    s.timeout = 300;
    s.netmask = 0xffffff00;
    return s;
}

// The genl payload of a message: genlmsghdr + attributes.
netlink::Bytes payload(std::uint8_t cmd, const netlink::Bytes& attrs) {
    const auto m = netlink::message(0x1f, cmd, NLM_F_REQUEST | NLM_F_ACK, 7, 9, attrs);
    return netlink::Bytes(m.begin() + NLMSG_HDRLEN, m.end());
}

}  // namespace

TEST_CASE("netlink: ipvsadm -A -t 192.0.2.10:80 -s wrr -p 300 -M 255.255.255.0, byte for byte") {
    const auto expected = BYTES(
        "\x01\x01\x00\x00\x54\x00\x01\x80\x06\x00\x01\x00\x02\x00\x00\x00\x06\x00\x02\x00\x06\x00\x00\x00\x14\x00\x03\x00"
        "\xc0\x00\x02\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x04\x00\x00\x50\x00\x00\x08\x00\x06\x00"
        "\x77\x72\x72\x00\x0c\x00\x07\x00\x01\x00\x00\x00\xff\xff\xff\xff\x08\x00\x08\x00\x2c\x01\x00\x00\x08\x00\x09\x00"
        "\xff\xff\xff\x00");
    const Op op{Op::Kind::AddService, webService(), {}};
    CHECK(payload(netlink::commandFor(op.kind), netlink::opAttrs(op)) == expected);
    const auto m = netlink::message(0x1f, 1, NLM_F_REQUEST | NLM_F_ACK, 7, 9, netlink::opAttrs(op));
    CHECK(m.size() == 104);  // what strace showed as nlmsg_len
}

TEST_CASE("netlink: ipvsadm -a ... -r 198.51.100.11:8080 -m -w 7 -x 100 -y 50 (the service by its key)") {
    // ipvsadm sends the whole service with a destination; the kernel reads only its key, so we send
    // the key. The destination attributes are ipvsadm's, byte for byte.
    const auto expected = BYTES(
        "\x05\x01\x00\x00"
        "\x30\x00\x01\x80\x06\x00\x01\x00\x02\x00\x00\x00\x06\x00\x02\x00\x06\x00\x00\x00\x14\x00\x03\x00"
        "\xc0\x00\x02\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x04\x00\x00\x50\x00\x00"
        "\x60\x00\x02\x80\x06\x00\x0b\x00\x02\x00\x00\x00\x14\x00\x01\x00\xc6\x33\x64\x0b\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x06\x00\x02\x00\x1f\x90\x00\x00\x08\x00\x03\x00\x00\x00\x00\x00\x08\x00\x04\x00\x07\x00\x00\x00"
        "\x05\x00\x0d\x00\x00\x00\x00\x00\x06\x00\x0e\x00\x00\x00\x00\x00\x06\x00\x0f\x00\x00\x00\x00\x00\x08\x00\x05\x00"
        "\x64\x00\x00\x00\x08\x00\x06\x00\x32\x00\x00\x00");
    Dest d;
    d.key = {*base::IpAddress::parse("198.51.100.11"), 8080};
    d.weight = 7;
    d.upperThreshold = 100;
    d.lowerThreshold = 50;
    const Op op{Op::Kind::AddDest, webService(), d};
    CHECK(payload(netlink::commandFor(op.kind), netlink::opAttrs(op)) == expected);
}

TEST_CASE("netlink: the kernel's GET_SERVICE dump reply decodes to the service and its stats") {
    // the payload of the kernel's 320-byte reply to ipvsadm -Ln for the service above
    const auto reply = BYTES(
        "\x01\x01\x00\x00\x2c\x01\x01\x00\x06\x00\x01\x00\x02\x00\x00\x00\x06\x00\x02\x00\x06\x00\x00\x00\x14\x00\x03\x00"
        "\xc0\x00\x02\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x04\x00\x00\x50\x00\x00\x08\x00\x06\x00"
        "\x77\x72\x72\x00\x0c\x00\x07\x00\x03\x00\x00\x00\xff\xff\xff\xff\x08\x00\x08\x00\x2c\x01\x00\x00\x08\x00\x09\x00"
        "\xff\xff\xff\x00\x5c\x00\x0a\x00\x08\x00\x01\x00\x00\x00\x00\x00\x08\x00\x02\x00\x00\x00\x00\x00\x08\x00\x03\x00"
        "\x00\x00\x00\x00\x0c\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x08\x00\x06\x00\x00\x00\x00\x00\x08\x00\x07\x00\x00\x00\x00\x00\x08\x00\x08\x00\x00\x00\x00\x00\x08\x00\x09\x00"
        "\x00\x00\x00\x00\x08\x00\x0a\x00\x00\x00\x00\x00\x7c\x00\x0c\x00\x0c\x00\x01\x00\x07\x00\x00\x00\x00\x00\x00\x00"
        "\x0c\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x04\x00"
        "\x00\xe8\x76\x48\x17\x00\x00\x00\x0c\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x06\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x0c\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x0c\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    // (two counters in STATS64 set by hand to check the 64-bit path: conns 7, inbytes 100,000,000,000)
    netlink::Message m{{static_cast<std::uint32_t>(reply.size() + NLMSG_HDRLEN), 0x1f, NLM_F_MULTI, 1, 0}, reply};
    const auto attrs = netlink::genlAttrs(m);
    REQUIRE(attrs);
    const auto s = netlink::decodeService(*attrs);
    REQUIRE(s);
    CHECK(s->service == webService());  // HASHED (0x2) dropped, the netmask back in host order
    CHECK(s->status.stats.conns == 7);
    CHECK(s->status.stats.inbytes == 100000000000ULL);
}

TEST_CASE("netlink: GET_INFO reply (version 1.2.1, 4096 entries)") {
    const auto reply = BYTES("\x0e\x01\x00\x00\x08\x00\x01\x00\x01\x02\x01\x00\x08\x00\x02\x00\x00\x10\x00\x00");
    netlink::Message m{{36, 0x1f, 0, 1, 0}, reply};
    const auto attrs = netlink::genlAttrs(m);
    REQUIRE(attrs);
    const auto info = netlink::decodeInfo(*attrs);
    REQUIRE(info);
    CHECK(info->version == 0x010201);
    CHECK(info->connTableSize == 4096);
}

TEST_CASE("netlink: round trips of destinations, fwmark and IPv6 services, timeouts, daemons") {
    Service v6;
    v6.key = ServiceKey::inet(*base::IpAddress::parse("2001:db8::10"), kUdp, 53);
    v6.scheduler = "mh";
    v6.flags = kSvcSched1 | kSvcSched2 | kSvcPersistent;
    v6.netmask = 64;
    v6.timeout = 60;
    v6.peName = "sip";
    Service mark;
    mark.key = ServiceKey::mark(base::Family::V4, 42);
    for (const Service& svc : {v6, mark, webService()}) {
        const auto raw = netlink::opAttrs(Op{Op::Kind::EditService, svc, {}});  // attrs point into it
        const auto attrs = netlink::parseAttrs(raw);
        REQUIRE(attrs);
        const auto back = netlink::decodeService(*attrs);
        REQUIRE(back);
        CHECK(back->service == svc);
    }
    Dest d;
    d.key = {*base::IpAddress::parse("2001:db8:1::7"), 0};
    d.forwarding = Forwarding::Tunnel;
    d.tunnelType = TunnelType::Gue;
    d.tunnelPort = 6080;
    d.tunnelFlags = TunnelChecksum::RemCsum;
    d.weight = 65535;
    const auto raw = netlink::opAttrs(Op{Op::Kind::EditDest, v6, d});
    const auto attrs = netlink::parseAttrs(raw);
    REQUIRE(attrs);
    const auto back = netlink::decodeDest(*attrs, base::Family::V6);
    REQUIRE(back);
    CHECK(back->dest == d);

    const auto rawT = netlink::timeoutAttrs(Timeouts{3600, 0, 30});
    const auto t = netlink::parseAttrs(rawT);
    REQUIRE(t);
    CHECK(t->size() == 2);  // tcpfin 0: left out, unchanged
    netlink::SyncDaemon sd;
    sd.state = netlink::SyncDaemon::kBackup;
    sd.interface = "eth1";
    sd.syncId = 9;
    sd.maxLen = 1400;
    sd.group = *base::IpAddress::parse("239.1.2.3");
    sd.port = 8849;
    sd.ttl = 2;
    const auto rawD = netlink::daemonAttrs(sd, true);
    const auto da = netlink::parseAttrs(rawD);
    REQUIRE(da);
    CHECK(netlink::decodeDaemon(*da) == sd);
}

TEST_CASE("netlink: malformed replies are rejected, never read out of bounds") {
    // an attribute that claims more than the buffer
    CHECK_FALSE(netlink::parseAttrs(BYTES("\x20\x00\x01\x00\x00\x00")));
    CHECK_FALSE(netlink::parseAttrs(BYTES("\x02\x00\x01\x00")));  // shorter than its own header
    // a message length past the buffer
    CHECK_FALSE(netlink::splitMessages(BYTES("\xff\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")));
    // a service without its family, or with a short address
    const auto noFamily = BYTES("\x0c\x00\x01\x80\x08\x00\x05\x00\x01\x00\x00\x00");
    CHECK_FALSE(netlink::decodeService(*netlink::parseAttrs(noFamily)));
    const auto shortAddr = BYTES(
        "\x1c\x00\x01\x80\x06\x00\x01\x00\x02\x00\x00\x00\x06\x00\x02\x00\x06\x00\x00\x00\x06\x00\x03\x00\x0a\x00\x00\x00");
    CHECK_FALSE(netlink::decodeService(*netlink::parseAttrs(shortAddr)));
    // random bytes: whatever comes out, nothing crashes (ASan watches)
    std::uint32_t x = 12345;
    for (int round = 0; round < 20000; ++round) {
        netlink::Bytes b(static_cast<size_t>(x % 200));
        for (auto& c : b) {
            x = x * 1664525u + 1013904223u;
            c = static_cast<std::uint8_t>(x >> 24);
        }
        if (auto msgs = netlink::splitMessages(b))
            for (const auto& m : *msgs)
                if (auto a = netlink::genlAttrs(m)) {
                    (void)netlink::decodeService(*a);
                    (void)netlink::decodeDest(*a, base::Family::V4);
                    (void)netlink::decodeDaemon(*a);
                }
        if (auto a = netlink::parseAttrs(b)) {
            (void)netlink::decodeService(*a);
            (void)netlink::decodeDest(*a, base::Family::V6);
            (void)netlink::decodeTimeouts(*a);
        }
    }
}
