#include "director/status/SnmpTables.h"

#include <net/if.h>

#include <algorithm>
#include <cstdlib>

namespace director::status::mib {
namespace {

using snmp::Oid;
using snmp::operator+;
using snmp::Value;

const Oid kRoot = {1, 3, 6, 1, 4, 1, 9586, 100, 5};
const Oid kGlobal = kRoot + Oid{1};
const Oid kSyncGroupEntry = kRoot + Oid{2, 1, 1};
const Oid kSyncMemberEntry = kRoot + Oid{2, 2, 1};
const Oid kInstanceEntry = kRoot + Oid{2, 3, 1};
const Oid kTrackedIfEntry = kRoot + Oid{2, 4, 1};
const Oid kTrackedScriptEntry = kRoot + Oid{2, 5, 1};
const Oid kAddressEntry = kRoot + Oid{2, 6, 1};
const Oid kScriptEntry = kRoot + Oid{2, 9, 1};
const Oid kVrrpTraps = kRoot + Oid{2, 10, 0};
const Oid kVsEntry = kRoot + Oid{3, 3, 1};
const Oid kRsEntry = kRoot + Oid{3, 4, 1};
const Oid kCheckTraps = kRoot + Oid{3, 5, 0};

const base::IpAddress kVrrpGroup4 = base::IpAddress::v4(0xe0000012);  // 224.0.0.18
const base::IpAddress kVrrpGroup6 = *base::IpAddress::parse("ff02::12");

Value truth(bool b) { return Value::integer32(b ? 1 : 2); }
std::uint32_t idx(size_t i) { return static_cast<std::uint32_t>(i + 1); }
Value addrType(base::Family f) { return Value::integer32(f == base::Family::V4 ? 1 : 2); }

int schedulerCode(const std::string& s) {
    static const char* const names[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                        "sh", "sed", "nq", "fo", "ovf", "mh", "twos"};
    for (size_t i = 0; i < std::size(names); ++i)
        if (s == names[i]) return static_cast<int>(i + 1);
    return 99;
}

int forwardingCode(kmod::Forwarding f) {
    switch (f) {
    case kmod::Forwarding::Masq: return 1;
    case kmod::Forwarding::Route: return 2;
    case kmod::Forwarding::Tunnel: return 3;
    case kmod::Forwarding::LocalNode: return 0;  // no code in the MIB: the object is absent
    }
    return 0;
}

int protocolCode(const std::string& p) { return p == "tcp" ? 1 : p == "udp" ? 2 : p == "sctp" ? 3 : 4; }

// InetScopeType (INET-ADDRESS-MIB) of a VIP's scope.
int scopeCode(const std::string& s) {
    if (s == "host") return 1;
    if (s == "link") return 2;
    if (s == "site") return 5;
    return 14;  // global
}

// The IPv4 netmask of a prefix length, as keepalived's persistence granularity (4 bytes).
std::string netmask4(int prefix) {
    std::uint32_t m = prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>((m >> (24 - 8 * i)) & 0xff);
    return s;
}

// A command as keepalived shows it: each argument in single quotes (a quote inside as '\''), the
// program by its real path (keepalived resolves it at load), a leading redirection as is.
std::string commandText(const conf::Command& c) {
    std::string out;
    for (size_t i = 0; i < c.argv.size(); ++i) {
        std::string arg = c.argv[i];
        if (i) out += ' ';
        if (i == 0 && !arg.empty() && (arg[0] == '<' || arg[0] == '>')) {
            out += arg;
            continue;
        }
        if (i == 0)
            if (char* real = ::realpath(arg.c_str(), nullptr)) {
                arg = real;
                std::free(real);
            }
        out += '\'';
        for (char ch : arg) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
        out += '\'';
    }
    return out;
}

std::uint64_t seconds(conf::Duration d) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}
std::uint64_t micros(conf::Duration d) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// keepalived's 64-bit rates as two Gauge32 halves (low, high), in its column order from `first`:
// cps, in pps, out pps, in bps, out bps.
template <class Col>
void splitRates(Col& col, std::uint32_t first, const kmod::StatsRates& r) {
    std::uint32_t c = first;
    for (std::uint64_t v : {r.cps, r.inpps, r.outpps, r.inbps, r.outbps}) {
        col(c++, Value::gauge32(v & 0xffffffffu));
        col(c++, Value::gauge32(v >> 32));
    }
}

const protocol::InstanceStatus* statusOf(const View& v, const std::string& name) {
    auto it = v.vrrp.find(name);
    return it == v.vrrp.end() ? nullptr : &it->second;
}

::vrrp::State stateOf(const View& v, const conf::VrrpInstance& inst) {
    if (auto it = v.roles.find(inst.name); it != v.roles.end()) return it->second;
    if (const auto* s = statusOf(v, inst.name)) return s->state;
    return ::vrrp::State::Init;
}

::vrrp::State groupState(const View& v, const conf::SyncGroup& g) {
    bool any = false, allMaster = true, fault = false, init = false;
    for (const auto& m : g.members)
        for (const auto& inst : v.cfg.vrrpInstances)
            if (inst.name == m) {
                any = true;
                const auto s = stateOf(v, inst);
                allMaster &= s == ::vrrp::State::Master;
                fault |= s == ::vrrp::State::Fault;
                init |= s == ::vrrp::State::Init;
            }
    if (!any || init) return ::vrrp::State::Init;
    if (fault) return ::vrrp::State::Fault;
    return allMaster ? ::vrrp::State::Master : ::vrrp::State::Backup;
}

std::string groupOf(const conf::Config& cfg, const std::string& instance) {
    for (const auto& g : cfg.syncGroups)
        if (std::find(g.members.begin(), g.members.end(), instance) != g.members.end()) return g.name;
    return "";
}

const kmod::DestStatus* destStatus(const View& v, const kmod::ServiceKey& key, const kmod::DestKey& dk) {
    if (!v.status) return nullptr;
    auto s = v.status->find(key);
    if (s == v.status->end()) return nullptr;
    auto d = s->second.dests.find(dk);
    return d == s->second.dests.end() ? nullptr : &d->second;
}

size_t upCount(const View& v, const conf::VirtualServer& vs) {
    size_t n = 0;
    for (const auto& rs : vs.realServers) n += rsUp(v.health, vs, rs) ? 1 : 0;
    return n;
}

bool quorumMet(const View& v, const conf::VirtualServer& vs) {
    auto it = v.quorumUp.find(serviceKey(vs));
    return it == v.quorumUp.end() || it->second;
}

void addGlobal(snmp::MibTree& t, const View& v) {
    t.set(kGlobal + Oid{1, 0}, Value::string(std::string("directord ") + DIRECTORD_VERSION));
    t.set(kGlobal + Oid{2, 0}, Value::string(v.routerId));
    t.set(kGlobal + Oid{4, 0}, Value::integer32(v.cfg.global.snmp.traps ? 1 : 2));
    // no mail group: directord sends no mail
    t.set(kGlobal + Oid{5, 0}, Value::integer32(1));  // linkBeat: netlink (rtnetlink events)
    t.set(kGlobal + Oid{6, 0}, Value::integer32(2));  // lvsFlush: never at start (the table is adopted)
    t.set(kGlobal + Oid{7, 0}, truth(true));           // ipvs64BitStats
    t.set(kGlobal + Oid{8, 0}, Value::string(v.cfg.global.netNamespace));  // empty: the one it was started in
    t.set(kGlobal + Oid{9, 0}, truth(false));          // dbus
    t.set(kGlobal + Oid{10, 0}, truth(false));         // dynamicInterfaces
    // the mail group (global.3), as keepalived's core/snmp.c serves it: with no server, what
    // keepalived 2.2.7 reads then (type ipv6(2): anything not AF_INET; 0.0.0.0, port 0, timeout 0);
    // the sender only when set; fault mails on; the smtp_alert defaults are resolved into each
    // instance and server here, so unset(3)
    const Oid mail = kGlobal + Oid{3};
    const auto& smtp = v.cfg.global.smtp;
    t.set(mail + Oid{1, 0}, smtp.server ? addrType(smtp.server->address.family()) : Value::integer32(2));
    t.set(mail + Oid{2, 0}, Value::address(smtp.server ? smtp.server->address : base::IpAddress::v4(0)));
    t.set(mail + Oid{3, 0}, Value::unsigned32(smtp.server ? static_cast<std::uint64_t>(
                                std::chrono::duration_cast<std::chrono::seconds>(smtp.connectTimeout).count())
                                                          : 0));
    if (!smtp.from.empty()) t.set(mail + Oid{4, 0}, Value::string(smtp.from));
    for (size_t i = 0; i < smtp.to.size(); ++i) t.set(mail + Oid{5, 1, 2, idx(i)}, Value::string(smtp.to[i]));
    t.set(mail + Oid{6, 0}, Value::unsigned32(smtp.server ? smtp.server->port : 0));
    t.set(mail + Oid{7, 0}, truth(true));  // smtpEmailFaults: FAULT transitions are mailed
    for (std::uint32_t c : {8u, 9u, 10u}) t.set(mail + Oid{c, 0}, Value::integer32(3));
    // lvsFlushOnStop: enabled(1) for the whole table; otherwise disabled(2), keepalived's default,
    // which removes its own services at stop as `created` does (flushVS(3) is keepalived's other way
    // of removing its own, not told apart here)
    t.set(kGlobal + Oid{11, 0}, Value::integer32(v.cfg.global.flushOnStop == conf::FlushOnStop::All ? 1 : 2));
}

// lvsSyncDaemon and lvsTimeouts (KEEPALIVED-MIB's check.6 and check.7), as keepalived: the
// daemon's details only when it is configured, a timeout only when set.
void addLvsGlobals(snmp::MibTree& t, const View& v) {
    const auto& d = v.cfg.global.syncDaemon;
    const Oid sync = kRoot + Oid{3, 6};
    t.set(sync + Oid{1, 0}, truth(d.enabled));
    if (d.enabled) {
        t.set(sync + Oid{2, 0}, Value::string(d.interface));
        if (!d.vrrpInstance.empty()) t.set(sync + Oid{3, 0}, Value::string(d.vrrpInstance));
        t.set(sync + Oid{4, 0}, Value::integer32(d.syncId));
        t.set(sync + Oid{5, 0}, Value::integer32(d.maxlen));
        t.set(sync + Oid{6, 0}, Value::integer32(d.port));
        t.set(sync + Oid{7, 0}, Value::integer32(d.ttl));
        t.set(sync + Oid{8, 0}, addrType(d.group.family()));
        t.set(sync + Oid{9, 0}, Value::address(d.group));
    }
    const auto& to = v.cfg.global.ipvsTimeouts;
    const Oid timeouts = kRoot + Oid{3, 7};
    if (to.tcp) t.set(timeouts + Oid{1, 0}, Value::integer32(to.tcp));
    if (to.tcpFin) t.set(timeouts + Oid{2, 0}, Value::integer32(to.tcpFin));
    if (to.udp) t.set(timeouts + Oid{3, 0}, Value::integer32(to.udp));
}

// vrrpScriptTable (position in vrrp_scripts): the definition, and the result the vrrp worker
// reports with the instances that track it (1, not run yet, when none does).
void addScripts(snmp::MibTree& t, const View& v) {
    for (size_t k = 0; k < v.cfg.vrrpScripts.size(); ++k) {
        const auto& sc = v.cfg.vrrpScripts[k];
        auto col = [&](std::uint32_t c, Value val) { t.set(kScriptEntry + Oid{c, idx(k)}, std::move(val)); };
        int result = 1;
        for (const auto& [name, st] : v.vrrp)
            if (auto it = st.scripts.find(sc.name); it != st.scripts.end()) result = it->second;
        col(2, Value::string(sc.name));
        col(3, Value::string(commandText(sc.command)));
        col(4, Value::integer32(static_cast<std::int64_t>(seconds(sc.interval))));
        col(5, Value::integer32(sc.weight));
        col(6, Value::integer32(result));
        col(7, Value::unsigned32(static_cast<std::uint64_t>(sc.rise)));
        col(8, Value::unsigned32(static_cast<std::uint64_t>(sc.fall)));
        col(9, truth(false));  // no reverse weights
    }
}

void addVrrp(snmp::MibTree& t, const View& v) {
    const auto& cfg = v.cfg;
    addScripts(t, v);
    for (size_t g = 0; g < cfg.syncGroups.size(); ++g) {
        const auto& group = cfg.syncGroups[g];
        t.set(kSyncGroupEntry + Oid{2, idx(g)}, Value::string(group.name));
        t.set(kSyncGroupEntry + Oid{3, idx(g)}, Value::integer32(stateCode(groupState(v, group))));
        t.set(kSyncGroupEntry + Oid{4, idx(g)}, truth(group.smtpAlert));
        t.set(kSyncGroupEntry + Oid{5, idx(g)}, truth(group.notify != conf::NotifyConfig{}));
        for (const auto& [c, cmd] : {std::pair<std::uint32_t, const conf::Command*>{6, &group.notify.master},
                                     {7, &group.notify.backup},
                                     {8, &group.notify.fault},
                                     {9, &group.notify.generic},
                                     {11, &group.notify.stop}})
            if (!cmd->empty()) t.set(kSyncGroupEntry + Oid{c, idx(g)}, Value::string(cmd->str()));
        t.set(kSyncGroupEntry + Oid{10, idx(g)}, truth(false));  // no sync_group_tracking_weight
        // indexed by the member's position in the group (the MIB: no relation to vrrpInstanceIndex)
        for (size_t m = 0; m < group.members.size(); ++m)
            t.set(kSyncMemberEntry + Oid{2, idx(g), idx(m)}, Value::string(group.members[m]));
    }
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i) {
        const auto& inst = cfg.vrrpInstances[i];
        const auto* st = statusOf(v, inst.name);
        const auto state = stateOf(v, inst);
        const std::uint32_t n = idx(i);
        auto col = [&](std::uint32_t c, Value val) { t.set(kInstanceEntry + Oid{c, n}, std::move(val)); };
        col(2, Value::string(inst.name));
        col(3, Value::unsigned32(static_cast<std::uint64_t>(inst.vrid)));
        col(4, Value::integer32(stateCode(state)));
        col(5, Value::integer32(stateCode(inst.initialMaster ? ::vrrp::State::Master : ::vrrp::State::Backup)));
        col(6, Value::integer32(stateCode(state == ::vrrp::State::Fault ? ::vrrp::State::Backup : state)));
        col(7, Value::integer32(inst.priority));
        col(8, Value::integer32(st ? st->effectivePriority : inst.priority));
        col(9, truth(state == ::vrrp::State::Master));
        col(10, Value::string(inst.interface));
        col(11, truth(!inst.trackInterfaces.empty()));
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(inst.advertInterval).count();
        col(12, Value::unsigned32(static_cast<std::uint64_t>(inst.version == 2 ? us / 1000000 : us / 10000)));
        col(13, truth(!inst.nopreempt));
        col(14, Value::unsigned32(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(inst.preemptDelay).count())));
        col(15, Value::integer32(inst.version == 2 ? static_cast<int>(inst.authType) : 0));
        const bool syncd = cfg.global.syncDaemon.enabled && cfg.global.syncDaemon.vrrpInstance == inst.name;
        col(16, truth(syncd));
        if (syncd) col(17, Value::string(cfg.global.syncDaemon.interface));
        if (const auto g = groupOf(cfg, inst.name); !g.empty()) col(18, Value::string(g));
        col(19, Value::gauge32(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(inst.garp.masterDelay).count())));
        col(20, truth(inst.smtpAlert));
        col(21, truth(inst.notify != conf::NotifyConfig{}));
        col(27, inst.version == 3 ? truth(inst.acceptMode) : Value::integer32(0));  // as keepalived: v3 only
        col(28, truth(false));                                          // promote_secondaries is left alone
        col(29, truth(false));                                          // links from rtnetlink, no polling
        col(30, Value::integer32(inst.version));
        // vrrpTrackedInterfaceTable and vrrpTrackedScriptTable (instance, position from 1)
        for (size_t k = 0; k < inst.trackInterfaces.size(); ++k) {
            const auto& ti = inst.trackInterfaces[k];
            t.set(kTrackedIfEntry + Oid{1, n, idx(k)}, Value::string(ti.interface));
            t.set(kTrackedIfEntry + Oid{2, n, idx(k)}, Value::integer32(ti.weight));
            t.set(kTrackedIfEntry + Oid{3, n, idx(k)}, truth(false));  // no reverse weights
        }
        for (size_t k = 0; k < inst.trackScripts.size(); ++k) {
            const auto& ts = inst.trackScripts[k];
            int weight = ts.weight.value_or(0);
            for (const auto& sc : cfg.vrrpScripts)
                if (sc.name == ts.script) weight = ts.weight.value_or(sc.weight);
            t.set(kTrackedScriptEntry + Oid{2, n, idx(k)}, Value::string(ts.script));
            t.set(kTrackedScriptEntry + Oid{3, n, idx(k)}, Value::integer32(weight));
            t.set(kTrackedScriptEntry + Oid{4, n, idx(k)}, truth(false));
        }
        col(33, truth(false));  // no DELETED notification when a reload removes the instance
        if (inst.unicastPeers.empty()) {
            col(34, addrType(inst.family));
            col(35, Value::address(inst.family == base::Family::V4 ? kVrrpGroup4 : kVrrpGroup6));
        }
        size_t a = 0;
        for (const auto* list : {&inst.virtualAddresses, &inst.excludedAddresses}) {
            const bool advertised = list == &inst.virtualAddresses;
            for (const auto& va : *list) {
                const std::uint32_t an = idx(a++);
                auto acol = [&](std::uint32_t c, Value val) { t.set(kAddressEntry + Oid{c, n, an}, std::move(val)); };
                acol(2, addrType(va.prefix.address.family()));
                acol(3, Value::address(va.prefix.address));
                if (va.prefix.address.family() == base::Family::V4)
                    acol(4, Value::address(base::IpAddress::v4(0)));  // no broadcast address is set
                acol(5, Value::unsigned32(static_cast<std::uint64_t>(va.prefix.prefix)));
                acol(6, Value::integer32(scopeCode(va.scope)));
                const std::string dev = !va.dev.empty() ? va.dev : inst.vmac.enabled ? inst.vmac.name : inst.interface;
                if (const unsigned ix = ::if_nametoindex(dev.c_str())) acol(7, Value::integer32(ix));
                acol(8, Value::string(dev));
                if (!va.label.empty()) acol(9, Value::string(va.label));  // vrrpAddressIfAlias
                acol(10, truth(state == ::vrrp::State::Master));
                acol(11, truth(advertised));
            }
        }
    }
}

void addRealServer(snmp::MibTree& t, const View& v, const conf::VirtualServer& vs, std::uint32_t vn, std::uint32_t rn,
                   const conf::RealServer* rs, const conf::SorryServer* sorry) {
    auto col = [&](std::uint32_t c, Value val) { t.set(kRsEntry + Oid{c, vn, rn}, std::move(val)); };
    const auto key = serviceKey(vs);
    const base::IpAddress addr = rs ? rs->address : sorry->address;
    const int port = rs ? rs->port : sorry->port;
    const kmod::DestKey dk{addr, static_cast<std::uint16_t>(port)};
    col(2, truth(rs != nullptr));  // regular(1), sorry(2)
    col(3, addrType(addr.family()));
    col(4, Value::address(addr));
    col(5, Value::unsigned32(static_cast<std::uint64_t>(port)));
    if (rs) {
        col(6, truth(rsUp(v.health, vs, *rs)));
        // keepalived's effective weight: a check's dynamic weight, else the configured one (also
        // while the server is down and inhibited at 0 in the table)
        std::int64_t weight = rs->weight;
        if (auto h = v.health.servers.find({key, dk}); h != v.health.servers.end() && h->second.weight)
            weight = *h->second.weight;
        // the operator's part, as in the table: disabled (directorctl disable) 0, a slow start its share
        if (v.health.disabled.contains({key, dk})) weight = 0;
        else if (auto r = v.health.ramp.find({key, dk}); r != v.health.ramp.end())
            weight = lvs::rampedWeight(static_cast<std::uint32_t>(weight), r->second);
        col(7, Value::integer32(weight));
        if (rs->upperThreshold) col(8, Value::unsigned32(static_cast<std::uint64_t>(rs->upperThreshold)));
        if (rs->lowerThreshold) col(9, Value::unsigned32(static_cast<std::uint64_t>(rs->lowerThreshold)));
        col(10, Value::integer32(rs->inhibitOnFailure.value_or(vs.inhibitOnFailure) ? 2 : 1));
        if (!rs->notifyUp.empty()) col(11, Value::string(commandText(rs->notifyUp)));
        if (!rs->notifyDown.empty()) col(12, Value::string(commandText(rs->notifyDown)));
        // realServerFailedChecks: how many of its checks fail
        auto h = v.health.servers.find({key, dk});
        col(13, Value::unsigned32(h == v.health.servers.end() ? 0 : static_cast<std::uint64_t>(h->second.failedChecks)));
    }
    // a real server not in the table (down, not inhibited) counts nothing now: zeros, as keepalived
    static const kmod::DestStatus kNone{};
    const kmod::DestStatus* ds = destStatus(v, key, dk);
    if (!ds && v.status) ds = &kNone;
    if (ds) {
        col(14, Value::gauge32(ds->stats.conns));
        col(15, Value::gauge32(ds->activeConns));
        col(16, Value::gauge32(ds->inactConns));
        col(17, Value::gauge32(ds->persistConns));
        col(18, Value::counter32(ds->stats.inpkts));
        col(19, Value::counter32(ds->stats.outpkts));
        col(20, Value::counter64(ds->stats.inbytes));
        col(21, Value::counter64(ds->stats.outbytes));
        col(22, Value::gauge32(ds->rates.cps));
        col(23, Value::gauge32(ds->rates.inpps));
        col(24, Value::gauge32(ds->rates.outpps));
        col(25, Value::gauge32(ds->rates.inbps));
        col(26, Value::gauge32(ds->rates.outbps));
        col(27, Value::counter64(ds->stats.conns));
        col(28, Value::counter64(ds->stats.inpkts));
        col(29, Value::counter64(ds->stats.outpkts));
        splitRates(col, 30, ds->rates);
    }
    const auto fwd = rs ? rs->forwarding.value_or(vs.forwarding) : sorry->forwarding.value_or(vs.forwarding);
    if (forwardingCode(fwd)) col(40, Value::integer32(forwardingCode(fwd)));
    if (!rs) return;
    // keepalived's real server level: its own retry, delay before retry and warmup (0: none set
    // there; directord sets them per check), the service's delay loop and connect timeout
    col(42, truth(vs.alpha));
    col(43, Value::unsigned32(0));
    col(44, Value::unsigned32(0));
    col(45, Value::unsigned32(0));
    col(46, Value::unsigned32(seconds(vs.delayLoop)));
    col(47, truth(rs->smtpAlert));
    col(48, Value::unsigned32(0));
    col(49, Value::unsigned32(0));
    col(50, Value::unsigned32(micros(vs.delayLoop)));
    col(51, Value::unsigned32(micros(vs.connectTimeout)));
    // keepalived 2.4's: the notify scripts' paths, and how many of its checks have no result yet
    if (!rs->notifyUp.argv.empty()) col(56, Value::string(rs->notifyUp.argv.front()));
    if (!rs->notifyDown.argv.empty()) col(57, Value::string(rs->notifyDown.argv.front()));
    std::uint64_t ran = 0;
    for (const auto& c : v.checks)
        if (c.vs == key && c.rs == dk) {
            std::uint64_t results = 0;
            for (auto n : c.counters.latencyBucket) results += n;
            ran += results > 0;
        }
    col(63, Value::unsigned32(rs->checks.size() > ran ? rs->checks.size() - ran : 0));
}

void addCheck(snmp::MibTree& t, const View& v) {
    const auto& cfg = v.cfg;
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i) {
        const auto& vs = cfg.virtualServers[i];
        const std::uint32_t n = idx(i);
        auto col = [&](std::uint32_t c, Value val) { t.set(kVsEntry + Oid{c, n}, std::move(val)); };
        const bool fwmark = vs.fwmark != 0;
        col(2, Value::integer32(fwmark ? 1 : 2));
        if (fwmark) col(4, Value::unsigned32(vs.fwmark));
        col(5, addrType(vs.family));
        if (!fwmark && vs.address) {
            col(6, Value::address(*vs.address));
            col(7, Value::unsigned32(static_cast<std::uint64_t>(vs.port)));
            col(8, Value::integer32(protocolCode(vs.protocol)));
        }
        col(9, Value::integer32(schedulerCode(vs.scheduler)));
        if (forwardingCode(vs.forwarding)) col(10, Value::integer32(forwardingCode(vs.forwarding)));
        const size_t up = upCount(v, vs);
        col(11, truth(!v.table || v.table->services.contains(serviceKey(vs))));  // keepalived: in IPVS
        if (!vs.virtualhost.empty()) col(12, Value::string(vs.virtualhost));
        col(13, truth(vs.persistenceTimeout > 0));
        if (vs.persistenceTimeout > 0) col(14, Value::unsigned32(static_cast<std::uint64_t>(vs.persistenceTimeout)));
        if (vs.family == base::Family::V4) col(15, Value::string(netmask4(vs.netmaskPrefix())));
        else col(51, Value::unsigned32(static_cast<std::uint64_t>(vs.netmaskPrefix())));
        col(16, Value::unsigned32(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(vs.delayLoop).count())));
        col(17, truth(vs.haSuspend));
        col(18, truth(vs.alpha));
        col(19, truth(vs.omega));
        col(20, Value::unsigned32(vs.realServers.size()));
        col(21, Value::unsigned32(up));
        col(22, Value::unsigned32(static_cast<std::uint64_t>(vs.quorum)));
        col(23, truth(quorumMet(v, vs)));
        if (!vs.quorumUp.empty()) col(24, Value::string(commandText(vs.quorumUp)));
        if (!vs.quorumDown.empty()) col(25, Value::string(commandText(vs.quorumDown)));
        col(26, Value::unsigned32(static_cast<std::uint64_t>(vs.hysteresis)));
        if (v.status)
            if (auto s = v.status->find(serviceKey(vs)); s != v.status->end()) {
                const auto& st = s->second;
                col(27, Value::gauge32(st.stats.conns));
                col(28, Value::counter32(st.stats.inpkts));
                col(29, Value::counter32(st.stats.outpkts));
                col(30, Value::counter64(st.stats.inbytes));
                col(31, Value::counter64(st.stats.outbytes));
                col(32, Value::gauge32(st.rates.cps));
                col(33, Value::gauge32(st.rates.inpps));
                col(34, Value::gauge32(st.rates.outpps));
                col(35, Value::gauge32(st.rates.inbps));
                col(36, Value::gauge32(st.rates.outbps));
                col(38, Value::counter64(st.stats.conns));
                col(39, Value::counter64(st.stats.inpkts));
                col(40, Value::counter64(st.stats.outpkts));
                splitRates(col, 41, st.rates);
            }
        col(37, truth(vs.onePacket));
        col(56, Value::integer32(vs.inhibitOnFailure ? 2 : 1));
        col(57, Value::unsigned32(static_cast<std::uint64_t>(vs.retry)));
        col(58, Value::unsigned32(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(vs.delayBeforeRetry).count())));
        col(59, Value::unsigned32(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(vs.warmup).count())));
        const bool sh = vs.scheduler == "sh", mh = vs.scheduler == "mh";
        col(52, truth(false));  // IP_VS_SVC_F_HASHED: the kernel's own, never configured
        col(53, truth(sh && vs.schedFallback));
        col(54, truth(sh && vs.schedPort));
        col(55, truth(false));  // flag-3: no scheduler of ours uses it
        col(60, Value::integer32(1));  // keepalived's virtual server weight (virtual server groups)
        col(61, truth(false));         // directord sends no mail
        col(62, truth(mh && vs.schedFallback));
        col(63, truth(mh && vs.schedPort));
        col(64, Value::unsigned32(micros(vs.delayLoop)));
        col(65, Value::unsigned32(micros(vs.delayBeforeRetry)));
        col(66, Value::unsigned32(micros(vs.warmup)));
        col(67, Value::unsigned32(micros(vs.connectTimeout)));
        std::uint32_t rn = 0;
        if (vs.sorryServer) addRealServer(t, v, vs, n, ++rn, nullptr, &*vs.sorryServer);
        for (const auto& rs : vs.realServers) addRealServer(t, v, vs, n, ++rn, &rs, nullptr);
    }
}

// ---- VRRP-MIB (RFC 2787) and VRRPv3-MIB (RFC 6527) ----

const Oid kMib2 = {1, 3, 6, 1, 2, 1};
const Oid kVrrp = kMib2 + Oid{68};
const Oid kVrrpv3 = kMib2 + Oid{207};

// The RFC MIBs' VrrpState/Status: initialize(1), backup(2), master(3); FAULT is initialize.
int rfcState(::vrrp::State s) { return s == ::vrrp::State::Backup ? 2 : s == ::vrrp::State::Master ? 3 : 1; }

// One instance as the RFC MIBs see it.
struct RfcRow {
    const conf::VrrpInstance* inst = nullptr;
    const protocol::InstanceStatus* st = nullptr;
    ::vrrp::State state = ::vrrp::State::Init;
    Oid index;  // ifIndex.VRID (RFC 2787) or ifIndex.VRID.addressType (RFC 6527)

    std::uint64_t drop(::vrrp::Drop d) const { return st ? st->drops[static_cast<size_t>(d)] : 0; }
    base::IpAddress zero() const {
        static const std::uint8_t none[16] = {};
        return inst->family == base::Family::V4 ? base::IpAddress::v4(0)
                                                : base::IpAddress::fromBytes(base::Family::V6, none);
    }
    base::IpAddress primary() const { return st && st->primary ? *st->primary : zero(); }
    // The master's primary address: ours while master, else the last master heard (zero: none).
    base::IpAddress master() const {
        if (state == ::vrrp::State::Master) return primary();
        return st && st->masterSeen ? *st->masterSeen : zero();
    }
    std::string mac() const { return st ? std::string(st->mac.begin(), st->mac.end()) : std::string(6, '\0'); }
    // Centiseconds since the instance left INIT (0 while INIT or FAULT).
    std::uint64_t upFor(std::int64_t sinceMs) const {
        if (!st || !st->upSinceMs || (state != ::vrrp::State::Backup && state != ::vrrp::State::Master)) return 0;
        return sinceMs > st->upSinceMs ? static_cast<std::uint64_t>(sinceMs - st->upSinceMs) / 10 : 0;
    }
    std::uint64_t lengthErrors() const {
        return drop(::vrrp::Drop::TooShort) + drop(::vrrp::Drop::BadLength) + drop(::vrrp::Drop::TooLong);
    }
    std::uint64_t intervalErrors() const { return drop(::vrrp::Drop::IntervalMismatch) + drop(::vrrp::Drop::BadInterval); }
};

void addressIndex(Oid& o, const base::IpAddress& a) {
    const size_t n = a.family() == base::Family::V4 ? 4 : 16;
    for (size_t i = 0; i < n; ++i) o.push_back(a.bytes()[i]);
}

std::vector<RfcRow> rfcRows(const View& v, bool v3) {
    std::vector<RfcRow> rows;
    for (const auto& inst : v.cfg.vrrpInstances) {
        if (inst.virtualAddresses.empty()) continue;  // both MIBs: at least one address
        if (!v3 && (inst.version != 2 || inst.family != base::Family::V4)) continue;
        RfcRow r;
        r.inst = &inst;
        r.st = statusOf(v, inst.name);
        r.state = stateOf(v, inst);
        r.index = {static_cast<std::uint32_t>(r.st ? r.st->ifindex : 0), static_cast<std::uint32_t>(inst.vrid)};
        if (v3) r.index.push_back(inst.family == base::Family::V4 ? 1 : 2);
        rows.push_back(std::move(r));
    }
    return rows;
}

std::uint32_t vipCount(const conf::VrrpInstance& inst) { return static_cast<std::uint32_t>(inst.virtualAddresses.size()); }

}  // namespace

const snmp::Oid& vrrpRoot() { return kVrrp; }
const snmp::Oid& vrrpv3Root() { return kVrrpv3; }

void addVrrpMib(snmp::MibTree& t, const View& v) {
    const auto rows = rfcRows(v, false);
    t.set(kVrrp + Oid{1, 1, 0}, Value::integer32(2));  // vrrpNodeVersion
    t.set(kVrrp + Oid{1, 2, 0}, truth(v.cfg.global.snmp.traps));  // vrrpNotificationCntl
    std::uint64_t checksum = 0, version = 0, vrid = 0;
    for (const auto& r : rows) {
        const auto& inst = *r.inst;
        auto oper = [&](std::uint32_t c, Value val) { t.set(kVrrp + Oid{1, 3, 1, c} + r.index, std::move(val)); };
        oper(2, Value::string(r.mac()));
        oper(3, Value::integer32(rfcState(r.state)));
        oper(4, Value::integer32(1));  // vrrpOperAdminState: up
        oper(5, Value::integer32(inst.priority));
        oper(6, Value::integer32(vipCount(inst)));
        oper(7, Value::ipAddress(r.master()));
        oper(8, Value::ipAddress(r.primary()));
        oper(9, Value::integer32(static_cast<int>(inst.authType) + 1));  // noAuthentication(1), simple(2), ah(3)
        oper(11, Value::integer32(std::chrono::duration_cast<std::chrono::seconds>(inst.advertInterval).count()));
        oper(12, truth(!inst.nopreempt));
        // as keepalived: when (since the agent started) the router left INIT
        std::uint64_t up = 0;
        if (r.upFor(v.nowMs) && r.st->upSinceMs > v.agentStartMs)
            up = static_cast<std::uint64_t>(r.st->upSinceMs - v.agentStartMs) / 10;
        oper(13, Value::timeTicks(up));
        oper(14, Value::integer32(1));  // vrrpOperProtocol: ip
        oper(15, Value::integer32(1));  // vrrpOperRowStatus: active
        for (const auto& va : inst.virtualAddresses) {
            Oid o = kVrrp + Oid{1, 4, 1, 2} + r.index;
            addressIndex(o, va.prefix.address);
            t.set(o, Value::integer32(1));  // vrrpAssoIpAddrRowStatus: active
        }
        auto stat = [&](std::uint32_t c, std::uint64_t n) {
            t.set(kVrrp + Oid{2, 4, 1, c} + r.index, Value::counter32(n));
        };
        stat(1, r.st ? r.st->masterTransitions : 0);
        stat(2, r.st ? r.st->advertsReceived : 0);
        stat(3, r.intervalErrors());
        stat(4, r.drop(::vrrp::Drop::AuthMismatch) + r.drop(::vrrp::Drop::Replay));
        stat(5, r.drop(::vrrp::Drop::BadTtl));
        stat(6, r.st ? r.st->priorityZeroReceived : 0);
        stat(7, r.st ? r.st->priorityZeroSent : 0);
        stat(8, r.drop(::vrrp::Drop::BadType));
        stat(9, r.drop(::vrrp::Drop::AddressMismatch));
        stat(10, r.drop(::vrrp::Drop::UnknownAuthType));
        stat(11, r.drop(::vrrp::Drop::AuthType));
        stat(12, r.lengthErrors());
        checksum += r.drop(::vrrp::Drop::BadChecksum);
        version += r.drop(::vrrp::Drop::BadVersion);
        vrid += r.drop(::vrrp::Drop::WrongVrid);
    }
    t.set(kVrrp + Oid{2, 1, 0}, Value::counter32(checksum));
    t.set(kVrrp + Oid{2, 2, 0}, Value::counter32(version));
    t.set(kVrrp + Oid{2, 3, 0}, Value::counter32(vrid));
}

void addVrrpv3Mib(snmp::MibTree& t, const View& v) {
    const auto rows = rfcRows(v, true);
    std::uint64_t checksum = 0, version = 0, vrid = 0;
    for (const auto& r : rows) {
        const auto& inst = *r.inst;
        auto oper = [&](std::uint32_t c, Value val) { t.set(kVrrpv3 + Oid{1, 1, 1, 1, c} + r.index, std::move(val)); };
        const auto cs = std::chrono::duration_cast<std::chrono::milliseconds>(inst.advertInterval).count() / 10;
        oper(3, Value::address(r.master()));
        oper(4, Value::address(r.primary()));
        oper(5, Value::string(r.mac()));
        oper(6, Value::integer32(rfcState(r.state)));
        oper(7, Value::unsigned32(static_cast<std::uint64_t>(inst.priority)));
        oper(8, Value::integer32(vipCount(inst)));
        oper(9, Value::integer32(cs));
        oper(10, truth(!inst.nopreempt));
        oper(11, truth(inst.acceptMode));  // always true: directord never filters traffic to its addresses
        oper(12, Value::timeTicks(r.upFor(v.nowMs)));
        oper(13, Value::integer32(1));  // vrrpv3OperationsRowStatus: active
        for (const auto& va : inst.virtualAddresses) {
            Oid o = kVrrpv3 + Oid{1, 1, 2, 1, 2} + r.index;
            addressIndex(o, va.prefix.address);
            t.set(o, Value::integer32(1));  // vrrpv3AssociatedIpAddrRowStatus: active
        }
        auto stat = [&](std::uint32_t c, Value val) { t.set(kVrrpv3 + Oid{1, 2, 5, 1, c} + r.index, std::move(val)); };
        stat(1, Value::counter32(r.st ? r.st->masterTransitions : 0));
        stat(2, Value::integer32(r.st ? r.st->masterReason : 0));
        stat(3, Value::counter64(r.st ? r.st->advertsReceived : 0));
        stat(4, Value::counter64(r.intervalErrors()));
        stat(5, Value::counter64(r.drop(::vrrp::Drop::BadTtl)));
        stat(6, Value::integer32(r.st ? r.st->protocolErrorReason : 0));
        stat(7, Value::counter64(r.st ? r.st->priorityZeroReceived : 0));
        stat(8, Value::counter64(r.st ? r.st->priorityZeroSent : 0));
        stat(9, Value::counter64(r.drop(::vrrp::Drop::BadType)));
        stat(10, Value::counter64(r.drop(::vrrp::Drop::AddressMismatch)));
        stat(11, Value::counter64(r.lengthErrors()));
        stat(12, Value::timeTicks(0));  // no discontinuities: counters start with the instance
        stat(13, Value::unsigned32(static_cast<std::uint64_t>(cs) * 10));  // vrrpv3StatisticsRefreshRate, ms
        checksum += r.drop(::vrrp::Drop::BadChecksum);
        version += r.drop(::vrrp::Drop::BadVersion);
        vrid += r.drop(::vrrp::Drop::WrongVrid);
    }
    t.set(kVrrpv3 + Oid{1, 2, 1, 0}, Value::counter64(checksum));
    t.set(kVrrpv3 + Oid{1, 2, 2, 0}, Value::counter64(version));
    t.set(kVrrpv3 + Oid{1, 2, 3, 0}, Value::counter64(vrid));
    t.set(kVrrpv3 + Oid{1, 2, 4, 0}, Value::timeTicks(0));
}

std::optional<snmp::Trap> vrrpNewMaster(const View& v, const conf::VrrpInstance& inst) {
    for (const auto& r : rfcRows(v, false)) {
        if (r.inst != &inst) continue;
        snmp::Trap t;
        t.trapOid = kVrrp + Oid{0, 1};
        const auto src = r.st && r.st->source ? *r.st->source : r.primary();
        t.vars.emplace_back(kVrrp + Oid{1, 3, 1, 7} + r.index, Value::ipAddress(src));
        return t;
    }
    return std::nullopt;
}

std::optional<snmp::Trap> vrrpv3NewMaster(const View& v, const conf::VrrpInstance& inst) {
    for (const auto& r : rfcRows(v, true)) {
        if (r.inst != &inst) continue;
        snmp::Trap t;
        t.trapOid = kVrrpv3 + Oid{0, 1};
        const auto src = r.st && r.st->source ? *r.st->source : r.primary();
        t.vars.emplace_back(kVrrpv3 + Oid{1, 1, 1, 1, 3} + r.index, Value::address(src));
        t.vars.emplace_back(kVrrpv3 + Oid{1, 2, 5, 1, 2} + r.index, Value::integer32(r.st ? r.st->masterReason : 0));
        return t;
    }
    return std::nullopt;
}

namespace {

snmp::Trap begin(const Oid& trap) {
    snmp::Trap t;
    t.trapOid = trap;
    return t;
}

void routerId(snmp::Trap& t, const View& v) { t.vars.emplace_back(kGlobal + Oid{2, 0}, Value::string(v.routerId)); }

// virtualServerType, then what names the service (fwmark, or address type, address and port),
// then its protocol: keepalived's order.
void serviceVars(snmp::Trap& t, const conf::VirtualServer& vs) {
    const bool fwmark = vs.fwmark != 0;
    t.vars.emplace_back(kVsEntry + Oid{2}, Value::integer32(fwmark ? 1 : 2));
    if (fwmark) {
        t.vars.emplace_back(kVsEntry + Oid{4}, Value::unsigned32(vs.fwmark));
    } else if (vs.address) {
        t.vars.emplace_back(kVsEntry + Oid{5}, addrType(vs.address->family()));
        t.vars.emplace_back(kVsEntry + Oid{6}, Value::address(*vs.address));
        t.vars.emplace_back(kVsEntry + Oid{7}, Value::unsigned32(static_cast<std::uint64_t>(vs.port)));
    }
    t.vars.emplace_back(kVsEntry + Oid{8}, truth(vs.protocol == "tcp"));  // keepalived: tcp(1), else 2
}

}  // namespace

const snmp::Oid& keepalivedRoot() { return kRoot; }

::vrrp::State groupStateOf(const View& v, const conf::SyncGroup& g) { return groupState(v, g); }

int stateCode(::vrrp::State s) {
    switch (s) {
    case ::vrrp::State::Init: return 0;
    case ::vrrp::State::Backup: return 1;
    case ::vrrp::State::Master: return 2;
    case ::vrrp::State::Fault: return 3;
    }
    return 4;
}

bool rsUp(const lvs::HealthView& h, const conf::VirtualServer& vs, const conf::RealServer& rs) {
    auto it = h.servers.find({serviceKey(vs), kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}});
    return it == h.servers.end() || it->second.up;
}

void addKeepalived(snmp::MibTree& tree, const View& v) {
    addGlobal(tree, v);
    addVrrp(tree, v);
    addCheck(tree, v);
    addLvsGlobals(tree, v);
}

snmp::Trap instanceStateChange(const View& v, const conf::VrrpInstance& inst, ::vrrp::State state) {
    auto t = begin(kVrrpTraps + Oid{2});
    t.vars.emplace_back(kInstanceEntry + Oid{2}, Value::string(inst.name));
    t.vars.emplace_back(kInstanceEntry + Oid{4}, Value::integer32(stateCode(state)));
    t.vars.emplace_back(kInstanceEntry + Oid{5},
                        Value::integer32(stateCode(inst.initialMaster ? ::vrrp::State::Master : ::vrrp::State::Backup)));
    routerId(t, v);
    return t;
}

snmp::Trap syncGroupStateChange(const View& v, const conf::SyncGroup& group, ::vrrp::State state) {
    auto t = begin(kVrrpTraps + Oid{1});
    t.vars.emplace_back(kSyncGroupEntry + Oid{2}, Value::string(group.name));
    t.vars.emplace_back(kSyncGroupEntry + Oid{3}, Value::integer32(stateCode(state)));
    routerId(t, v);
    return t;
}

snmp::Trap realServerStateChange(const View& v, const conf::VirtualServer& vs, const conf::RealServer& rs, bool up) {
    auto t = begin(kCheckTraps + Oid{1});
    t.vars.emplace_back(kRsEntry + Oid{3}, addrType(rs.address.family()));
    t.vars.emplace_back(kRsEntry + Oid{4}, Value::address(rs.address));
    t.vars.emplace_back(kRsEntry + Oid{5}, Value::unsigned32(static_cast<std::uint64_t>(rs.port)));
    t.vars.emplace_back(kRsEntry + Oid{6}, truth(up));
    serviceVars(t, vs);
    t.vars.emplace_back(kVsEntry + Oid{21}, Value::unsigned32(upCount(v, vs)));
    t.vars.emplace_back(kVsEntry + Oid{20}, Value::unsigned32(vs.realServers.size()));
    routerId(t, v);
    return t;
}

snmp::Trap quorumStateChange(const View& v, const conf::VirtualServer& vs, bool met) {
    auto t = begin(kCheckTraps + Oid{2});
    serviceVars(t, vs);
    t.vars.emplace_back(kVsEntry + Oid{23}, truth(met));
    t.vars.emplace_back(kVsEntry + Oid{22}, Value::unsigned32(static_cast<std::uint64_t>(vs.quorum)));
    t.vars.emplace_back(kVsEntry + Oid{21}, Value::unsigned32(upCount(v, vs)));
    t.vars.emplace_back(kVsEntry + Oid{20}, Value::unsigned32(vs.realServers.size()));
    routerId(t, v);
    return t;
}

}  // namespace director::status::mib
