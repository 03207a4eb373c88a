#include <catch2/catch.hpp>

#include <cstdlib>

#include "conf/Loader.h"
#include "director/status/SnmpTables.h"

namespace {

using snmp::Oid;
using snmp::operator+;

const Oid K{1, 3, 6, 1, 4, 1, 9586, 100, 5};

const snmp::Value& at(const snmp::MibTree& t, const Oid& suffix) {
    const auto* v = t.get(K + suffix);
    INFO(snmp::oidText(K + suffix));
    REQUIRE(v);
    return *v;
}

struct Lab {
    conf::Config cfg;
    std::map<std::string, vrrp::State> roles;
    std::map<std::string, director::protocol::InstanceStatus> vrrp;
    director::lvs::HealthView health;
    std::map<kmod::ServiceKey, bool> quorum;
    kmod::TableState table;
    director::status::Snapshot view() const {
        director::status::Snapshot s(cfg);
        s.routerId = "lb1";
        s.roles = roles;
        s.vrrp = vrrp;
        s.health = health;
        s.quorumUp = quorum;
        s.table = table;
        return s;
    }
};

Lab lab() {
    auto r = conf::loadString(R"(
global = { router_id = "lb1"; snmp = { traps = true; }; };
vrrp_instances = (
  { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = 150; version = 3; advert_interval = 0.5;
    virtual_addresses = ( "10.0.0.10/24" ); },
  { name = "VI_2"; interface = "eth1"; virtual_router_id = 52; version = 2; state = "MASTER"; nopreempt = true;
    authentication = { type = "PASS"; password = "secret"; }; virtual_addresses = ( "10.0.1.10" ); }
);
vrrp_sync_groups = ( { name = "G1"; members = [ "VI_1", "VI_2" ]; } );
virtual_servers = (
  { address = "10.0.0.10"; port = 80; scheduler = "wrr"; quorum = 2; persistence_timeout = 300;
    persistence_netmask = 24; sorry_server = { address = "10.0.2.1"; port = 8080; };
    real_servers = ( { address = "10.0.1.1"; weight = 3; checks = ( { type = "tcp"; } ); },
                     { address = "10.0.1.2"; weight = 4; inhibit_on_failure = true; } ); },
  { fwmark = 7; forwarding = "dr"; scheduler = "mh"; real_servers = ( { address = "10.0.3.1"; } ); }
);)",
                              "t.conf");
    REQUIRE(r.ok());
    Lab l;
    l.cfg = *r.config;
    l.table = director::lvs::desiredTable(l.cfg);
    return l;
}

}  // namespace

TEST_CASE("KEEPALIVED-MIB: the global objects, VRRP instances, sync groups and addresses") {
    Lab l = lab();
    l.roles["VI_1"] = vrrp::State::Master;
    l.roles["VI_2"] = vrrp::State::Backup;
    l.vrrp["VI_1"].effectivePriority = 140;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {1, 1, 0}).bytes.starts_with("directord "));
    CHECK(at(t, {1, 2, 0}).bytes == "lb1");
    CHECK(at(t, {1, 4, 0}).integer == 1);  // traps enabled
    // vrrpInstanceTable, index = position from 1
    CHECK(at(t, {2, 3, 1, 2, 1}).bytes == "VI_1");
    CHECK(at(t, {2, 3, 1, 3, 1}).number == 51);
    CHECK(at(t, {2, 3, 1, 4, 1}).integer == 2);  // master
    CHECK(at(t, {2, 3, 1, 4, 2}).integer == 1);  // backup
    CHECK(at(t, {2, 3, 1, 5, 1}).integer == 1);  // initial: backup
    CHECK(at(t, {2, 3, 1, 5, 2}).integer == 2);  // state = "MASTER"
    CHECK(at(t, {2, 3, 1, 7, 1}).integer == 150);
    CHECK(at(t, {2, 3, 1, 8, 1}).integer == 140);
    CHECK(at(t, {2, 3, 1, 9, 1}).integer == 1);   // VIPs all set on the master
    CHECK(at(t, {2, 3, 1, 9, 2}).integer == 2);
    CHECK(at(t, {2, 3, 1, 10, 2}).bytes == "eth1");
    CHECK(at(t, {2, 3, 1, 12, 1}).number == 50);  // v3: centiseconds
    CHECK(at(t, {2, 3, 1, 12, 2}).number == 1);   // v2: seconds
    CHECK(at(t, {2, 3, 1, 13, 2}).integer == 2);  // nopreempt
    CHECK(at(t, {2, 3, 1, 15, 2}).integer == 1);  // PASS
    CHECK(at(t, {2, 3, 1, 15, 1}).integer == 0);  // v3: none
    CHECK(at(t, {2, 3, 1, 18, 1}).bytes == "G1");
    CHECK(at(t, {2, 3, 1, 30, 1}).integer == 3);
    // the group is backup until both members are master
    CHECK(at(t, {2, 1, 1, 2, 1}).bytes == "G1");
    CHECK(at(t, {2, 1, 1, 3, 1}).integer == 1);
    CHECK(at(t, {2, 2, 1, 2, 1, 2}).bytes == "VI_2");
    // vrrpAddressTable: instance, address
    CHECK(at(t, {2, 6, 1, 3, 1, 1}).bytes == std::string("\x0a\x00\x00\x0a", 4));
    CHECK(at(t, {2, 6, 1, 5, 1, 1}).number == 24);
    CHECK(at(t, {2, 6, 1, 10, 1, 1}).integer == 1);  // set on the master
    CHECK(at(t, {2, 6, 1, 10, 2, 1}).integer == 2);
}

TEST_CASE("KEEPALIVED-MIB: virtual and real servers as keepalived indexes them, sorry server first") {
    Lab l = lab();
    const auto vs1 = director::lvs::serviceKey(l.cfg.virtualServers[0]);
    const kmod::DestKey rs1{*base::IpAddress::parse("10.0.1.1"), 80};
    l.health.servers[{vs1, rs1}] = director::lvs::RsHealth{false, std::nullopt, "refused", 1};
    l.quorum[vs1] = false;
    l.table = director::lvs::desiredTable(l.cfg, l.health);
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {3, 3, 1, 2, 1}).integer == 2);  // ip
    CHECK(at(t, {3, 3, 1, 6, 1}).bytes == std::string("\x0a\x00\x00\x0a", 4));
    CHECK(at(t, {3, 3, 1, 7, 1}).number == 80);
    CHECK(at(t, {3, 3, 1, 8, 1}).integer == 1);  // tcp
    CHECK(at(t, {3, 3, 1, 9, 1}).integer == 2);  // wrr
    CHECK(at(t, {3, 3, 1, 14, 1}).number == 300);
    CHECK(at(t, {3, 3, 1, 15, 1}).bytes == std::string("\xff\xff\xff\x00", 4));
    CHECK(at(t, {3, 3, 1, 20, 1}).number == 2);  // real servers total
    CHECK(at(t, {3, 3, 1, 21, 1}).number == 1);  // up
    CHECK(at(t, {3, 3, 1, 23, 1}).integer == 2);  // quorum not met
    CHECK(at(t, {3, 3, 1, 11, 1}).integer == 1);  // alive: installed, serving from the sorry server
    // a fwmark service: no address, port or protocol
    CHECK(at(t, {3, 3, 1, 2, 2}).integer == 1);
    CHECK(at(t, {3, 3, 1, 4, 2}).number == 7);
    CHECK(at(t, {3, 3, 1, 9, 2}).integer == 13);  // mh
    CHECK(at(t, {3, 3, 1, 10, 2}).integer == 2);  // dr
    CHECK(at(t, {3, 3, 1, 5, 2}).integer == 1);  // its family, as keepalived gives it
    CHECK_FALSE(t.get(K + Oid{3, 3, 1, 6, 2}));
    CHECK_FALSE(t.get(K + Oid{3, 3, 1, 8, 2}));
    // realServerTable: the sorry server is 1.1, then the real servers in order
    CHECK(at(t, {3, 4, 1, 2, 1, 1}).integer == 2);  // sorry
    CHECK(at(t, {3, 4, 1, 5, 1, 1}).number == 8080);
    CHECK_FALSE(t.get(K + Oid{3, 4, 1, 6, 1, 1}));  // no status for the sorry server
    CHECK(at(t, {3, 4, 1, 2, 1, 2}).integer == 1);
    CHECK(at(t, {3, 4, 1, 6, 1, 2}).integer == 2);  // dead
    CHECK(at(t, {3, 4, 1, 7, 1, 2}).integer == 3);  // keepalived's effective weight, though out of the table
    CHECK(at(t, {3, 4, 1, 6, 1, 3}).integer == 1);  // alive
    CHECK(at(t, {3, 4, 1, 7, 1, 3}).integer == 4);
    CHECK(at(t, {3, 4, 1, 10, 1, 3}).integer == 2);  // inhibit
    CHECK(at(t, {3, 4, 1, 13, 1, 2}).number == 1);   // failed checks
}

TEST_CASE("KEEPALIVED-MIB: the applied weight includes a check's dynamic weight") {
    Lab l = lab();
    const auto vs1 = director::lvs::serviceKey(l.cfg.virtualServers[0]);
    const kmod::DestKey rs1{*base::IpAddress::parse("10.0.1.1"), 80};
    l.health.servers[{vs1, rs1}] = director::lvs::RsHealth{true, 9, ""};
    l.table = director::lvs::desiredTable(l.cfg, l.health);
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {3, 4, 1, 7, 1, 2}).integer == 9);
}

TEST_CASE("KEEPALIVED-MIB: a real server the operator disabled has weight 0; one in its slow start, its share") {
    Lab l = lab();
    const auto vs1 = director::lvs::serviceKey(l.cfg.virtualServers[0]);
    const kmod::DestKey rs1{*base::IpAddress::parse("10.0.1.1"), 80};
    const kmod::DestKey rs2{*base::IpAddress::parse("10.0.1.2"), 80};
    l.health.disabled.insert({vs1, rs1});
    l.health.ramp[{vs1, rs2}] = 0.5;
    l.table = director::lvs::desiredTable(l.cfg, l.health);
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {3, 4, 1, 7, 1, 2}).integer == 0);  // as in the table
    CHECK(at(t, {3, 4, 1, 7, 1, 3}).integer == 2);  // half of 4
    CHECK(at(t, {3, 4, 1, 6, 1, 2}).integer == 1);  // still alive: its checks pass
}

TEST_CASE("KEEPALIVED-MIB traps: keepalived's varbinds, in its order, with column OIDs") {
    Lab l = lab();
    auto names = [](const snmp::Trap& t) {
        std::vector<std::string> out;
        for (const auto& [oid, v] : t.vars) out.push_back(snmp::oidText(oid));
        return out;
    };
    const std::string k = "1.3.6.1.4.1.9586.100.5.";
    const auto inst = director::status::mib::instanceStateChange(l.view(), l.cfg.vrrpInstances[0], vrrp::State::Master);
    CHECK(snmp::oidText(inst.trapOid) == k + "2.10.0.2");
    CHECK(names(inst) == std::vector<std::string>{k + "2.3.1.2", k + "2.3.1.4", k + "2.3.1.5", k + "1.2.0"});
    CHECK(inst.vars[1].second.integer == 2);

    const auto rs = director::status::mib::realServerStateChange(l.view(), l.cfg.virtualServers[0],
                                                         l.cfg.virtualServers[0].realServers[0], false);
    CHECK(snmp::oidText(rs.trapOid) == k + "3.5.0.1");
    CHECK(names(rs) == std::vector<std::string>{k + "3.4.1.3", k + "3.4.1.4", k + "3.4.1.5", k + "3.4.1.6",
                                                k + "3.3.1.2", k + "3.3.1.5", k + "3.3.1.6", k + "3.3.1.7",
                                                k + "3.3.1.8", k + "3.3.1.21", k + "3.3.1.20", k + "1.2.0"});
    CHECK(rs.vars[3].second.integer == 2);  // dead

    const auto q = director::status::mib::quorumStateChange(l.view(), l.cfg.virtualServers[1], true);
    CHECK(snmp::oidText(q.trapOid) == k + "3.5.0.2");
    CHECK(q.vars[2].second.integer == 1);  // protocol as keepalived sends it in traps: tcp(1), else 2
    CHECK(names(q) == std::vector<std::string>{k + "3.3.1.2", k + "3.3.1.4", k + "3.3.1.8", k + "3.3.1.23",
                                               k + "3.3.1.22", k + "3.3.1.21", k + "3.3.1.20", k + "1.2.0"});
    const auto g = director::status::mib::syncGroupStateChange(l.view(), l.cfg.syncGroups[0], vrrp::State::Fault);
    CHECK(snmp::oidText(g.trapOid) == k + "2.10.0.1");
    CHECK(g.vars[1].second.integer == 3);
}

TEST_CASE("VRRP-MIB and VRRPv3-MIB: indexes, values and counters from the vrrp worker") {
    Lab l = lab();
    l.roles["VI_1"] = vrrp::State::Master;
    l.roles["VI_2"] = vrrp::State::Backup;
    auto& s1 = l.vrrp["VI_1"];
    s1.ifindex = 4;
    s1.primary = base::IpAddress::parse("10.0.0.2");
    s1.source = s1.primary;
    s1.mac = {0x02, 0, 0, 0, 0, 0x04};
    s1.masterTransitions = 2;
    s1.masterReason = 2;
    s1.advertsReceived = 7;
    s1.priorityZeroReceived = 1;
    s1.protocolErrorReason = 1;
    s1.drops[static_cast<size_t>(vrrp::Drop::BadTtl)] = 3;
    s1.drops[static_cast<size_t>(vrrp::Drop::BadChecksum)] = 5;
    s1.upSinceMs = 10'000;
    auto& s2 = l.vrrp["VI_2"];
    s2.ifindex = 5;
    s2.primary = base::IpAddress::parse("10.0.1.2");
    s2.masterSeen = base::IpAddress::parse("10.0.1.3");
    s2.drops[static_cast<size_t>(vrrp::Drop::AuthMismatch)] = 2;
    s2.drops[static_cast<size_t>(vrrp::Drop::BadChecksum)] = 1;
    s2.drops[static_cast<size_t>(vrrp::Drop::TooShort)] = 1;
    s2.drops[static_cast<size_t>(vrrp::Drop::BadLength)] = 1;
    s2.upSinceMs = 12'000;
    auto view = l.view();
    view.nowMs = 15'000;
    view.agentStartMs = 11'000;
    snmp::MibTree t;
    director::status::mib::addVrrpMib(t, view);
    director::status::mib::addVrrpv3Mib(t, view);
    auto get = [&](const Oid& o) -> const snmp::Value& {
        INFO(snmp::oidText(o));
        const auto* v = t.get(o);
        REQUIRE(v);
        return *v;
    };
    const Oid v2{1, 3, 6, 1, 2, 1, 68}, v3{1, 3, 6, 1, 2, 1, 207};
    // RFC 2787: only VI_2 (VRRPv2 over IPv4), index ifIndex.VRID
    CHECK(get(v2 + Oid{1, 1, 0}).integer == 2);
    CHECK(get(v2 + Oid{1, 2, 0}).integer == 1);
    CHECK(t.get(v2 + Oid{1, 3, 1, 3, 4, 51}) == nullptr);
    CHECK(get(v2 + Oid{1, 3, 1, 3, 5, 52}).integer == 2);  // backup
    CHECK(get(v2 + Oid{1, 3, 1, 6, 5, 52}).integer == 1);
    CHECK(get(v2 + Oid{1, 3, 1, 7, 5, 52}).type == snmp::Value::Type::IpAddress);
    CHECK(get(v2 + Oid{1, 3, 1, 7, 5, 52}).bytes == std::string("\x0a\x00\x01\x03", 4));  // the master heard
    CHECK(get(v2 + Oid{1, 3, 1, 8, 5, 52}).bytes == std::string("\x0a\x00\x01\x02", 4));
    CHECK(get(v2 + Oid{1, 3, 1, 9, 5, 52}).integer == 2);  // simple password
    CHECK(get(v2 + Oid{1, 3, 1, 11, 5, 52}).integer == 1);
    CHECK(get(v2 + Oid{1, 3, 1, 12, 5, 52}).integer == 2);  // nopreempt
    CHECK(get(v2 + Oid{1, 3, 1, 13, 5, 52}).number == 100);  // up 1 s after the agent started
    CHECK(get(v2 + Oid{1, 4, 1, 2, 5, 52, 10, 0, 1, 10}).integer == 1);
    CHECK(get(v2 + Oid{2, 1, 0}).number == 1);  // VI_1's checksum errors are not VRRP-MIB's
    CHECK(get(v2 + Oid{2, 4, 1, 4, 5, 52}).number == 2);
    CHECK(get(v2 + Oid{2, 4, 1, 12, 5, 52}).number == 2);
    // RFC 6527: both, index ifIndex.VRID.addressType
    const Oid i1{4, 51, 1}, i2{5, 52, 1};
    CHECK(get(v3 + Oid{1, 1, 1, 1, 3} + i1).bytes == std::string("\x0a\x00\x00\x02", 4));  // master: ours
    CHECK(get(v3 + Oid{1, 1, 1, 1, 3} + i2).bytes == std::string("\x0a\x00\x01\x03", 4));
    CHECK(get(v3 + Oid{1, 1, 1, 1, 5} + i1).bytes == std::string("\x02\x00\x00\x00\x00\x04", 6));
    CHECK(get(v3 + Oid{1, 1, 1, 1, 6} + i1).integer == 3);
    CHECK(get(v3 + Oid{1, 1, 1, 1, 7} + i1).number == 150);
    CHECK(get(v3 + Oid{1, 1, 1, 1, 9} + i1).integer == 50);  // centiseconds
    CHECK(get(v3 + Oid{1, 1, 1, 1, 12} + i1).number == 500);  // up for 5 s
    CHECK(get(v3 + Oid{1, 1, 2, 1, 2} + i1 + Oid{10, 0, 0, 10}).integer == 1);
    CHECK(get(v3 + Oid{1, 2, 1, 0}).number == 6);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 1} + i1).number == 2);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 2} + i1).integer == 2);  // preempted
    CHECK(get(v3 + Oid{1, 2, 5, 1, 3} + i1).number == 7);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 5} + i1).number == 3);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 6} + i1).integer == 1);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 7} + i1).number == 1);
    CHECK(get(v3 + Oid{1, 2, 5, 1, 13} + i1).number == 500);  // ms
    // FAULT is initialize, with no up time
    view.roles["VI_1"] = vrrp::State::Fault;
    snmp::MibTree f;
    director::status::mib::addVrrpv3Mib(f, view);
    CHECK(f.get(v3 + Oid{1, 1, 1, 1, 6} + i1)->integer == 1);
    CHECK(f.get(v3 + Oid{1, 1, 1, 1, 12} + i1)->number == 0);

    // new-master notifications: the sender's address, and (v3) the reason
    const auto n2 = director::status::mib::vrrpNewMaster(view, l.cfg.vrrpInstances[1]);
    REQUIRE(n2);
    CHECK(n2->trapOid == v2 + Oid{0, 1});
    REQUIRE(n2->vars.size() == 1);
    CHECK(n2->vars[0].first == v2 + Oid{1, 3, 1, 7, 5, 52});
    CHECK_FALSE(director::status::mib::vrrpNewMaster(view, l.cfg.vrrpInstances[0]));  // v3: not RFC 2787's
    const auto n3 = director::status::mib::vrrpv3NewMaster(view, l.cfg.vrrpInstances[0]);
    REQUIRE(n3);
    CHECK(n3->trapOid == v3 + Oid{0, 1});
    REQUIRE(n3->vars.size() == 2);
    CHECK(n3->vars[0].first == v3 + Oid{1, 1, 1, 1, 3} + i1);
    CHECK(n3->vars[0].second.bytes == std::string("\x0a\x00\x00\x02", 4));
    CHECK(n3->vars[1].first == v3 + Oid{1, 2, 5, 1, 2} + i1);
    CHECK(n3->vars[1].second.integer == 2);
}

TEST_CASE("KEEPALIVED-MIB: 64-bit rates as two halves, microsecond timers, counters of a server out of the table") {
    Lab l = lab();
    kmod::TableStatus status;
    const auto key = director::lvs::serviceKey(l.cfg.virtualServers[0]);
    auto& svc = status[key];
    svc.rates.cps = (std::uint64_t{3} << 32) | 7;
    const auto& rs = l.cfg.virtualServers[0].realServers[0];
    svc.dests[kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}].rates.inbps = 9;
    auto view = l.view();
    view.status = status;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, view);
    CHECK(at(t, {3, 3, 1, 41, 1}).number == 7);  // virtualServerRateCpsLow
    CHECK(at(t, {3, 3, 1, 42, 1}).number == 3);  // ...High
    CHECK(at(t, {3, 3, 1, 64, 1}).number == 60'000'000);  // delay_loop, us
    CHECK(at(t, {3, 3, 1, 67, 1}).number == 5'000'000);   // connect_timeout, us
    CHECK(at(t, {3, 4, 1, 36, 1, 2}).number == 9);        // the first real server's in bps, low half
    // the second real server is not in the plane's status: its counters read 0, still present
    CHECK(at(t, {3, 4, 1, 14, 1, 3}).number == 0);
    CHECK(at(t, {3, 4, 1, 51, 1, 3}).number == 5'000'000);
}

TEST_CASE("KEEPALIVED-MIB: daemon options, lvsSyncDaemon and lvsTimeouts") {
    auto r = conf::loadString(R"(
global = { flush_on_stop = "all"; ipvs_timeouts = { tcp = 900; udp = 300; };
  sync_daemon = { interface = "eth1"; vrrp_instance = "VI_1"; sync_id = 7; }; };
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; virtual_addresses = ( "10.0.0.10" ); } );)",
                              "t.conf");
    REQUIRE(r.ok());
    Lab l = lab();
    l.cfg = *r.config;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {1, 5, 0}).integer == 1);   // linkBeat: netlink
    CHECK(at(t, {1, 11, 0}).integer == 1);  // flush_on_stop all: enabled
    CHECK(at(t, {3, 6, 1, 0}).integer == 1);
    CHECK(at(t, {3, 6, 2, 0}).bytes == "eth1");
    CHECK(at(t, {3, 6, 3, 0}).bytes == "VI_1");
    CHECK(at(t, {3, 6, 4, 0}).integer == 7);
    CHECK(at(t, {3, 6, 9, 0}).bytes == std::string("\xe0\x00\x00\x51", 4));  // 224.0.0.81
    CHECK(at(t, {3, 7, 1, 0}).integer == 900);
    CHECK(t.get(K + Oid{3, 7, 2, 0}) == nullptr);  // not set: absent, as keepalived
    CHECK(at(t, {3, 7, 3, 0}).integer == 300);
}

TEST_CASE("KEEPALIVED-MIB: tracked interfaces and scripts, with the weight in force") {
    auto r = conf::loadString(R"(
vrrp_scripts = ( { name = "chk"; script = "/bin/true"; weight = 20; }, { name = "chk2"; script = "/bin/true"; } );
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; virtual_addresses = ( "10.0.0.10" );
  track_interfaces = ( { interface = "eth1"; weight = -30; }, { interface = "eth2"; } );
  track_scripts = ( { script = "chk"; }, { script = "chk2"; weight = -5; } ); } );)",
                              "t.conf");
    REQUIRE(r.ok());
    Lab l = lab();
    l.cfg = *r.config;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {2, 4, 1, 1, 1, 1}).bytes == "eth1");
    CHECK(at(t, {2, 4, 1, 2, 1, 1}).integer == -30);
    CHECK(at(t, {2, 4, 1, 2, 1, 2}).integer == 0);
    CHECK(at(t, {2, 5, 1, 2, 1, 1}).bytes == "chk");
    CHECK(at(t, {2, 5, 1, 3, 1, 1}).integer == 20);  // the script's own
    CHECK(at(t, {2, 5, 1, 3, 1, 2}).integer == -5);  // the instance's override
    CHECK(at(t, {2, 5, 1, 4, 1, 2}).integer == 2);
    // vrrpScriptTable: not run yet until the vrrp worker reports a result
    CHECK(at(t, {2, 9, 1, 2, 1}).bytes == "chk");
    char* real = ::realpath("/bin/true", nullptr);  // keepalived shows the program by its real path, quoted
    REQUIRE(real);
    CHECK(at(t, {2, 9, 1, 3, 1}).bytes == "'" + std::string(real) + "'");
    std::free(real);
    CHECK(at(t, {2, 9, 1, 6, 1}).integer == 1);
    l.vrrp["VI_1"].scripts["chk"] = 2;
    snmp::MibTree f;
    director::status::mib::addKeepalived(f, l.view());
    CHECK(f.get(K + Oid{2, 9, 1, 6, 1})->integer == 2);  // failing
    CHECK(f.get(K + Oid{2, 9, 1, 6, 2})->integer == 1);  // chk2: no instance reported it
}

TEST_CASE("KEEPALIVED-MIB: commands as keepalived shows them, each argument quoted") {
    auto r = conf::loadString(R"(
virtual_servers = ( { address = "10.0.0.10"; port = 80; quorum_up = "/no/such/prog it's";
  real_servers = ( { address = "10.0.1.1"; notify_up = "/no/such/up a b"; } ); } );)",
                              "t.conf");
    REQUIRE(r.ok());
    Lab l = lab();
    l.cfg = *r.config;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {3, 3, 1, 24, 1}).bytes == "'/no/such/prog' 'it'\\''s'");
    CHECK(at(t, {3, 4, 1, 11, 1, 1}).bytes == "'/no/such/up' 'a' 'b'");
}

TEST_CASE("KEEPALIVED-MIB: realServerNotRunCheckers counts checks with no result yet; smtp alert as configured") {
    Lab l = lab();
    const auto vs1 = director::lvs::serviceKey(l.cfg.virtualServers[0]);
    const kmod::DestKey rs1{*base::IpAddress::parse("10.0.1.1"), 80};
    l.table = director::lvs::desiredTable(l.cfg, l.health);
    auto walk = [&](const std::vector<director::lvs::HealthMonitor::CheckStats>& checks) {
        auto v = l.view();
        v.checks = checks;
        snmp::MibTree t;
        director::status::mib::addKeepalived(t, v);
        return t;
    };
    // its one tcp check: started but no result (attempts counts runs, a result lands in a bucket)
    director::lvs::HealthMonitor::CheckStats started{vs1, rs1, 1, "tcp", {}, std::nullopt};
    started.counters.attempts = 1;
    CHECK(at(walk({}), {3, 4, 1, 63, 1, 2}).number == 1);
    CHECK(at(walk({started}), {3, 4, 1, 63, 1, 2}).number == 1);
    auto done = started;
    done.counters.latencyBucket[0] = 1;
    CHECK(at(walk({done}), {3, 4, 1, 63, 1, 2}).number == 0);
    CHECK(at(walk({done}), {3, 4, 1, 47, 1, 2}).integer == 1);  // smtp_alert's default, keepalived's
}

TEST_CASE("KEEPALIVED-MIB: sync group options and scripts, address labels and VMACs, smtp alert, namespace") {
    auto r = conf::loadString(R"(
global = { net_namespace = "lbns"; };
vrrp_instances = (
  { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; smtp_alert = true; vmac = { };
    virtual_addresses = ( { address = "10.0.0.10/24"; label = "eth0:vip"; }, "10.0.0.11/24" ); },
  { name = "VI_2"; interface = "eth0"; virtual_router_id = 52; virtual_addresses = ( "10.0.0.12/24" ); } );
vrrp_sync_groups = (
  { name = "G1"; members = [ "VI_1", "VI_2" ]; smtp_alert = true;
    notify = { master = [ "/usr/local/bin/m", "a b" ]; stop = "/usr/local/bin/s"; }; } );)",
                              "t.conf");
    REQUIRE(r.ok());
    Lab l = lab();
    l.cfg = *r.config;
    snmp::MibTree t;
    director::status::mib::addKeepalived(t, l.view());
    CHECK(at(t, {1, 8, 0}).bytes == "lbns");       // netNamespace
    CHECK(at(t, {1, 11, 0}).integer == 2);         // lvsFlushOnStop: keepalived's default, disabled
    CHECK(at(t, {2, 1, 1, 4, 1}).integer == 1);    // vrrpSyncGroupSmtpAlert
    CHECK(at(t, {2, 1, 1, 5, 1}).integer == 1);    // vrrpSyncGroupNotifyExec
    CHECK(at(t, {2, 1, 1, 6, 1}).bytes == l.cfg.syncGroups[0].notify.master.str());
    CHECK(at(t, {2, 1, 1, 11, 1}).bytes == "/usr/local/bin/s");
    CHECK(t.get(K + Oid{2, 1, 1, 7, 1}) == nullptr);  // no backup script: absent, as keepalived
    CHECK(at(t, {2, 1, 1, 10, 1}).integer == 2);   // vrrpSyncGroupTrackingWeight
    CHECK(at(t, {2, 3, 1, 20, 1}).integer == 1);   // vrrpInstanceSmtpAlert
    CHECK(at(t, {2, 3, 1, 20, 2}).integer == 2);
    CHECK(at(t, {2, 6, 1, 8, 1, 1}).bytes == "vrrp.51");   // the VIP's interface: the VMAC
    CHECK(at(t, {2, 6, 1, 9, 1, 1}).bytes == "eth0:vip");  // vrrpAddressIfAlias: the label
    CHECK(t.get(K + Oid{2, 6, 1, 9, 1, 2}) == nullptr);
    CHECK(at(t, {1, 3, 1, 0}).integer == 2);  // no SMTP server: what keepalived 2.2.7 reads then
    CHECK(at(t, {1, 3, 3, 0}).number == 0);
    auto m = conf::loadString(R"(
global = { smtp = { server = "[2001:db8::25]:2525"; from = "lb@example.com"; to = [ "a@example.com", "b@example.com" ];
  connect_timeout = 12; }; };)",
                              "m.conf");
    REQUIRE(m.ok());
    l.cfg = *m.config;
    snmp::MibTree mt;
    director::status::mib::addKeepalived(mt, l.view());
    CHECK(at(mt, {1, 3, 1, 0}).integer == 2);
    CHECK(at(mt, {1, 3, 2, 0}).bytes.size() == 16);
    CHECK(at(mt, {1, 3, 3, 0}).number == 12);
    CHECK(at(mt, {1, 3, 4, 0}).bytes == "lb@example.com");
    CHECK(at(mt, {1, 3, 5, 1, 2, 2}).bytes == "b@example.com");
    CHECK(at(mt, {1, 3, 6, 0}).number == 2525);
    CHECK(at(mt, {1, 3, 7, 0}).integer == 1);
    CHECK(at(mt, {1, 3, 8, 0}).integer == 3);
}
