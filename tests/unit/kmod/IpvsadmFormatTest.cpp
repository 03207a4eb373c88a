// ipvsctl's formats against the outputs of Debian's ipvsadm, recorded in the IPVS VM for the same
// table (tests/fixtures/ipvsadm/make-table.sh builds it; the .txt files are what ipvsadm printed).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "kmod/ipvsadm/IpvsadmFormat.h"
#include "kmod/netlink/ProcConnections.h"

using namespace kmod;
using namespace kmod::ipvsadm;
using namespace kmod::netlink;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(DIRECTORD_SOURCE_DIR) + "/tests/fixtures/ipvsadm/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Service svc(std::uint16_t proto, const char* addr, std::uint16_t port, const char* sched) {
    Service s;
    s.key = ServiceKey::inet(*base::IpAddress::parse(addr), proto, port);
    s.scheduler = sched;
    s.netmask = s.key.family() == base::Family::V6 ? 128 : 0xffffffffu;
    return s;
}

Dest dest(const char* addr, std::uint16_t port, Forwarding f, std::uint32_t w) {
    Dest d;
    d.key = {*base::IpAddress::parse(addr), port};
    d.forwarding = f;
    d.weight = w;
    return d;
}

// The table make-table.sh builds with ipvsadm.
TableState referenceTable() {
    TableState t;
    auto web = svc(kTcp, "192.0.2.10", 80, "wlc");
    t.addService(web);
    t.addDest(web.key, dest("198.51.100.11", 8080, Forwarding::Masq, 100));
    auto capped = dest("198.51.100.12", 8080, Forwarding::Masq, 50);
    capped.upperThreshold = 1000;
    capped.lowerThreshold = 800;
    t.addDest(web.key, capped);
    auto tls = svc(kTcp, "192.0.2.10", 443, "sh");
    tls.flags = kSvcSched1 | kSvcSched2 | kSvcPersistent;
    tls.timeout = 600;
    tls.netmask = 0xffffff00u;
    t.addService(tls);
    t.addDest(tls.key, dest("198.51.100.21", 443, Forwarding::Route, 1));
    t.addDest(tls.key, dest("198.51.100.22", 443, Forwarding::Route, 0));
    auto dns = svc(kUdp, "192.0.2.10", 53, "rr");
    dns.flags = kSvcOnePacket;
    t.addService(dns);
    t.addDest(dns.key, dest("198.51.100.31", 53, Forwarding::Masq, 1));
    Service mark;
    mark.key = ServiceKey::mark(base::Family::V4, 80);
    mark.scheduler = "lc";
    mark.flags = kSvcPersistent;
    mark.timeout = 300;
    t.addService(mark);
    t.addDest(mark.key, dest("198.51.100.41", 0, Forwarding::Tunnel, 3));
    auto gue = dest("198.51.100.42", 0, Forwarding::Tunnel, 2);
    gue.tunnelType = TunnelType::Gue;
    gue.tunnelPort = 6080;
    gue.tunnelFlags = TunnelChecksum::Csum;
    t.addDest(mark.key, gue);
    auto v6 = svc(kTcp, "2001:db8::10", 8443, "mh");
    v6.flags = kSvcSched2;
    t.addService(v6);
    t.addDest(v6.key, dest("2001:db8:1::1", 443, Forwarding::Masq, 7));
    t.addDest(v6.key, dest("2001:db8:1::2", 443, Forwarding::Masq, 7));
    auto sctp = svc(kSctp, "192.0.2.10", 3868, "fo");
    t.addService(sctp);
    t.addDest(sctp.key, dest("198.51.100.51", 3868, Forwarding::Masq, 10));
    return t;
}

std::string list(ListFormat f, bool exact = false) {
    ListOptions o;
    o.format = f;
    o.exact = exact;
    return formatList(referenceTable(), TableStatus{}, o);
}

}  // namespace

TEST_CASE("ipvsadm -Ln and its variants, byte for byte") {
    CHECK(list(ListFormat::Plain) == fixture("list.txt"));
    CHECK(list(ListFormat::Stats) == fixture("list-stats.txt"));
    CHECK(list(ListFormat::Rate) == fixture("list-rate.txt"));
    CHECK(list(ListFormat::Thresholds) == fixture("list-thresholds.txt"));
    CHECK(list(ListFormat::PersistentConn) == fixture("list-persistent.txt"));
    CHECK(list(ListFormat::TunInfo) == fixture("list-tun-info.txt"));
    CHECK(list(ListFormat::Stats, true) == fixture("list-exact-stats.txt"));
    ListOptions one;
    one.only = ServiceKey::inet(*base::IpAddress::parse("192.0.2.10"), kTcp, 80);
    CHECK(formatList(referenceTable(), TableStatus{}, one) == fixture("list-one.txt"));
}

TEST_CASE("ipvsadm --timeout and -Sn, byte for byte") {
    CHECK(formatTimeouts(Timeouts{3600, 60, 30}) == fixture("timeout.txt"));
    CHECK(formatSave(referenceTable()) == fixture("save.txt"));
}

TEST_CASE("ipvsadm -Lnc from the kernel's /proc/net/ip_vs_conn, byte for byte") {
    // recorded in the IPVS VM by tests/fixtures/ipvsadm/make-conns.py: TCP, persistence templates,
    // UDP, IPv6, and a port-translating NAT server
    size_t skipped = 99;
    const auto conns = parseProcConnections(fixture("conns-proc.txt"), &skipped);
    CHECK(skipped == 0);
    REQUIRE(conns.size() == 7);
    CHECK(formatConnections(conns, false) == fixture("conns.txt"));
    CHECK(formatConnections(conns, true) == fixture("conns-persistent.txt"));
}

TEST_CASE("/proc/net/ip_vs_conn: lines that cannot be read are skipped and counted") {
    size_t skipped = 0;
    const auto conns = parseProcConnections(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        "TCP CB007105 9C40 C000020A 0050 C633640B 1F90 ESTABLISHED    899\n"
        "TCP CB00710 9C40 C000020A 0050 C633640B 1F90 ESTABLISHED    899\n"  // short address
        "TCP CB007105 9C40 C000020A 0050 C633640B 1F90\n"                    // no state
        "TCP CB007105 XYZ C000020A 0050 C633640B 1F90 ESTABLISHED 1\n"       // bad port
        "UDP CB007105 9C40 C000020A 0050 C633640B 1F90 UDP -5\n"             // bad expiry
        "TCP CB007105 9C40 C000020A 0050 C633640B 1F90 ESTABLISHED    1 sip 3a2b\n",
        &skipped);
    CHECK(skipped == 4);
    REQUIRE(conns.size() == 2);
    CHECK(conns[0].expires == 899);
    CHECK(conns[1].peName == "sip");
    CHECK(formatConnections(conns, true).find("sip                3a2b") != std::string::npos);
}
