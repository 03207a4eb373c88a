// The typed protocol: every message survives encode -> frame stream -> decode, the supervisor's
// routes, the control socket's request and reply, and malformed frames are refused.
#include <catch2/catch.hpp>

#include "conf/Loader.h"
#include "director/protocol/Control.h"
#include "director/protocol/Messages.h"

using namespace director::protocol;

namespace {

// Feeds `bytes` to a FrameReader in pieces of `step` bytes; returns the frames it produced.
std::vector<Frame> split(const std::string& bytes, size_t step) {
    FrameReader in(kMaxWorkerFrame);
    std::vector<Frame> out;
    for (size_t off = 0; off < bytes.size(); off += step) {
        in.append(bytes.data() + off, std::min(step, bytes.size() - off));
        while (auto f = in.next()) out.push_back(std::move(*f));
    }
    return out;
}

kmod::userspace::PlaneTable sampleTable() {
    kmod::userspace::PlaneTable t;
    kmod::userspace::PlaneService& s = t.services.emplace_back();
    s.service.key = kmod::ServiceKey::inet(*base::IpAddress::parse("10.0.0.1"), kmod::kTcp, 80);
    s.service.scheduler = "mh";
    s.service.flags = kmod::kSvcPersistent | kmod::kSvcSched1;
    s.service.timeout = 600;
    s.version = 7;
    for (int i = 0; i < 3; ++i) {
        kmod::userspace::PlaneDest d;
        d.dest.key = {*base::IpAddress::parse("2001:db8::" + std::to_string(i + 1)),
                      static_cast<std::uint16_t>(8080 + i)};
        d.dest.weight = static_cast<std::uint32_t>(i);
        d.lastWeight = 5;
        d.id = 100 + static_cast<std::uint64_t>(i);
        s.dests.push_back(d);
    }
    t.timeouts = {3600, 60, 30};
    return t;
}

}  // namespace

TEST_CASE("protocol: every worker message round-trips through a frame stream cut anywhere") {
    const auto loaded = conf::loadFile(std::string(DIRECTORD_SOURCE_DIR) + "/tests/corpus/good/full.conf");
    REQUIRE(loaded.ok());

    InstanceStatus st;
    st.name = "VI_1";
    st.state = vrrp::State::Master;
    st.interface = "eth0";
    st.vrid = 51;
    st.version = 3;
    st.family = base::Family::V6;
    st.priority = 150;
    st.effectivePriority = 140;
    st.masterSeen = base::IpAddress::parse("fe80::1");
    st.syncGroup = "G";
    st.advertsSent = 1ull << 40;
    st.drops[static_cast<size_t>(vrrp::Drop::BadTtl)] = 3;

    PlaneReportMsg report;
    report.id = 9;
    auto& ss = report.status[sampleTable().services[0].service.key];
    ss.stats.conns = 12;
    ss.dests[sampleTable().services[0].dests[1].dest.key].activeConns = 4;
    kmod::ConnEntry c;
    c.client = *base::IpAddress::parse("192.0.2.7");
    c.clientPort = 5555;
    c.state = "ESTABLISHED";
    c.expires = 899;
    report.connections.push_back(c);
    kmod::SyncDaemon daemon;
    daemon.state = kmod::SyncDaemon::kBackup;
    daemon.interface = "eth1";
    daemon.syncId = 7;
    daemon.maxLen = 1472;
    daemon.group = base::IpAddress::parse("ff02::8848");
    daemon.port = 8848;
    daemon.ttl = 2;
    report.daemons.push_back(daemon);
    kmod::SyncStatus sync;
    sync.messagesReceived = 5;
    sync.drops["wrong_sync_id"] = 2;
    sync.lastLagMs = 21;
    report.sync = sync;
    report.daemonError = 17;

    const std::vector<Message> all = {
        ConfigMsg{*loaded.config},
        RoleMsg{"VI_1", vrrp::State::Backup},
        InstanceStatusMsg{st},
        TableMsg{sampleTable()},
        PlaneQueryMsg{42, true},
        report,
        PlaneZeroMsg{sampleTable().services[0].service.key},
        PlaneZeroMsg{std::nullopt},
        PlaneDaemonMsg{false, daemon},
        OperatorMsg{{DisabledServer{sampleTable().services[0].service.key, sampleTable().services[0].dests[0].dest.key,
                                    1764866400}},
                    true},
        ReloadRequestMsg{7},
        ReloadResultMsg{7, false, {"a.conf:3: global: bad", "kept"}},
        AppliedMsg{"1 changed"},
        HeartbeatMsg{3},
    };
    std::string stream;
    for (const auto& m : all) stream += encode(m);
    for (size_t step : {1ul, 7ul, 4096ul, stream.size()}) {
        const auto frames = split(stream, step);
        REQUIRE(frames.size() == all.size());
        for (size_t i = 0; i < all.size(); ++i) {
            auto m = decode(frames[i]);
            REQUIRE(m);
            REQUIRE(m->index() == all[i].index());
            CHECK(typeOf(*m) == frames[i].type);
        }
    }
    const auto frames = split(stream, 4096);
    CHECK(std::get<ConfigMsg>(*decode(frames[0])).config == *loaded.config);
    CHECK(std::get<RoleMsg>(*decode(frames[1])) == RoleMsg{"VI_1", vrrp::State::Backup});
    CHECK(std::get<InstanceStatusMsg>(*decode(frames[2])).status == st);
    CHECK(std::get<TableMsg>(*decode(frames[3])).table == sampleTable());
    CHECK(std::get<PlaneQueryMsg>(*decode(frames[4])).id == 42);
    const auto back = std::get<PlaneReportMsg>(*decode(frames[5]));
    CHECK(back.status.begin()->second.stats.conns == 12);
    CHECK(back.connections.at(0).client == c.client);
    CHECK(back.connections.at(0).expires == 899);
    CHECK(std::get<PlaneZeroMsg>(*decode(frames[6])).only == sampleTable().services[0].service.key);
    CHECK_FALSE(std::get<PlaneZeroMsg>(*decode(frames[7])).only);
    CHECK(back.daemons == report.daemons);
    CHECK(back.sync == report.sync);
    CHECK(back.daemonError == 17);
    const auto d = std::get<PlaneDaemonMsg>(*decode(frames[8]));
    CHECK_FALSE(d.start);
    CHECK(d.daemon == daemon);
    CHECK(std::get<OperatorMsg>(*decode(frames[9])).disabled == std::get<OperatorMsg>(all[9]).disabled);
    CHECK(std::get<OperatorMsg>(*decode(frames[9])).withdrawn);
    CHECK(std::get<ReloadRequestMsg>(*decode(frames[10])).id == 7);
    const auto result = std::get<ReloadResultMsg>(*decode(frames[11]));
    CHECK((result.id == 7 && !result.applied && result.errors == std::get<ReloadResultMsg>(all[11]).errors));
    CHECK(std::get<AppliedMsg>(*decode(frames[12])).summary == "1 changed");
    CHECK(std::get<HeartbeatMsg>(*decode(frames[13])).seq == 3);
}

TEST_CASE("protocol: the status worker's messages round-trip") {
    MibMsg mib;
    mib.objects[{1, 3, 6, 1, 4, 1, 9586, 1}] = snmp::Value::string("directord");
    mib.objects[{1, 3, 6, 1, 2, 1, 207, 1}] = snmp::Value::counter64(1ull << 40);
    snmp::Value oid;
    oid.type = snmp::Value::Type::ObjectId;
    oid.oid = {1, 3, 6, 1, 6, 3, 1};
    mib.objects[{1, 3, 6, 1, 2, 1, 68, 1}] = oid;
    mib.objects[{1, 3, 6, 1, 2, 1, 68, 2}] = snmp::Value::integer32(-7);
    TrapMsg trap{snmp::Trap{{1, 3, 6, 1, 4, 1, 9586, 100, 0, 1}, {{{1, 3, 6, 1, 4, 1, 9586, 2}, snmp::Value::gauge32(3)}}}};
    const FrontStatsMsg stats{true, 5, 6, 7, 1200, true};
    const StatusReplyMsg reply{9, true, "application/json", std::string(100000, 'x')};
    std::string stream = encode(StatusRequestMsg{9, "/metrics"}) + encode(reply) + encode(mib) + encode(trap) +
                         encode(stats);
    const auto frames = split(stream, 4096);
    REQUIRE(frames.size() == 5);
    const auto req = std::get<StatusRequestMsg>(*decode(frames[0]));
    CHECK((req.id == 9 && req.path == "/metrics"));
    const auto rep = std::get<StatusReplyMsg>(*decode(frames[1]));
    CHECK((rep.id == 9 && rep.found && rep.contentType == reply.contentType && rep.body == reply.body));
    CHECK(std::get<MibMsg>(*decode(frames[2])).objects == mib.objects);
    const auto t = std::get<TrapMsg>(*decode(frames[3])).trap;
    CHECK((t.trapOid == trap.trap.trapOid && t.vars == trap.trap.vars));
    const auto st = std::get<FrontStatsMsg>(*decode(frames[4]));
    CHECK((st.fresh && st.httpRequests == 5 && st.snmpRequests == 6 && st.trapsSent == 7 && st.snmpIdleMs == 1200 &&
           st.agentConnected));
}

TEST_CASE("protocol: the supervisor's record reaches the lvs worker whole") {
    SupervisorStatsMsg m;
    m.startedAt = 1800000000;
    m.reloadFailures = 2;
    m.lastReloadAt = 1800000100;
    m.lastReloadOk = false;
    m.lastReloadError = "d.conf:3: (top): syntax error";
    m.workers = {{"lvs", 1, 1800000001}, {"vrrp", 0, 1800000000}, {"status", 4, 0}};
    const auto frames = split(encode(m), 4096);
    REQUIRE(frames.size() == 1);
    CHECK(std::get<SupervisorStatsMsg>(*decode(frames[0])) == m);
    // only the supervisor sends it: from a worker it goes nowhere
    const Route r = routeOf(typeOf<SupervisorStatsMsg>());
    CHECK_FALSE((r.lvs || r.vrrp || r.fwd || r.status));
}

TEST_CASE("protocol: the forwarding worker's templates reach the supervisor whole and go nowhere else") {
    TemplatesMsg m;
    const auto svc = kmod::ServiceKey::inet(*base::IpAddress::parse("10.0.0.1"), kmod::kTcp, 81);
    m.templates = {{svc, *base::IpAddress::parse("192.0.2.7"), {*base::IpAddress::parse("10.1.0.2"), 81}, 1},
                   {kmod::ServiceKey::mark(base::Family::V6, 7), *base::IpAddress::parse("2001:db8::"),
                    {*base::IpAddress::parse("fd00::2"), 0}, 0}};
    const auto frames = split(encode(m), 4096);
    REQUIRE(frames.size() == 1);
    CHECK(std::get<TemplatesMsg>(*decode(frames[0])).templates == m.templates);
    const Route r = routeOf(typeOf<TemplatesMsg>());
    CHECK_FALSE((r.lvs || r.vrrp || r.fwd || r.status));
}

TEST_CASE("protocol: the supervisor's routes") {
    CHECK(routeOf(typeOf<RoleMsg>()).lvs);
    CHECK(routeOf(typeOf<RoleMsg>()).fwd);
    CHECK_FALSE(routeOf(typeOf<RoleMsg>()).vrrp);
    CHECK(routeOf(typeOf<InstanceStatusMsg>()).lvs);
    CHECK(routeOf(typeOf<TableMsg>()).fwd);
    CHECK_FALSE(routeOf(typeOf<TableMsg>()).lvs);
    CHECK(routeOf(typeOf<PlaneReportMsg>()).lvs);
    CHECK(routeOf(typeOf<PlaneDaemonMsg>()).fwd);
    CHECK_FALSE(routeOf(typeOf<PlaneDaemonMsg>()).lvs);
    // the status worker asks the lvs worker and is answered; nobody else hears either
    for (auto type : {typeOf<StatusRequestMsg>(), typeOf<FrontStatsMsg>()}) {
        const Route r = routeOf(type);
        CHECK((r.lvs && !r.vrrp && !r.fwd && !r.status));
    }
    for (auto type : {typeOf<StatusReplyMsg>(), typeOf<MibMsg>(), typeOf<TrapMsg>()}) {
        const Route r = routeOf(type);
        CHECK((r.status && !r.lvs && !r.vrrp && !r.fwd));
    }
    // the BFD sessions VRRP tracks run on the lvs worker: their states go to the vrrp worker alone
    const Route bfd = routeOf(typeOf<BfdStateMsg>());
    CHECK((bfd.vrrp && !bfd.lvs && !bfd.fwd && !bfd.status));
    const auto back = decode(split(encode(BfdStateMsg{"gw", true}), 64).at(0));
    REQUIRE(back);
    CHECK(std::get<BfdStateMsg>(*back) == BfdStateMsg{"gw", true});
    // only the supervisor sends configs and reload results; it keeps what the lvs worker tells it
    for (auto type : {typeOf<ConfigMsg>(), typeOf<ReloadResultMsg>(), typeOf<OperatorMsg>(), typeOf<ReloadRequestMsg>(),
                      typeOf<AppliedMsg>(), typeOf<HeartbeatMsg>()}) {
        const Route none = routeOf(type);
        CHECK_FALSE((none.lvs || none.vrrp || none.fwd || none.status));
    }
}

TEST_CASE("protocol: malformed frames are refused") {
    CHECK_FALSE(decode(Frame{0, ""}));
    CHECK_FALSE(decode(Frame{200, ""}));
    std::string role = encode(RoleMsg{"VI_1", vrrp::State::Master});
    auto f = split(role, 64).at(0);
    f.payload.pop_back();
    CHECK_FALSE(decode(f));
    f.payload += "xx";
    CHECK_FALSE(decode(f));
    FrameReader tooBig(16);
    const std::string big = frameBytes(1, std::string(100, 'a'));
    tooBig.append(big.data(), big.size());
    CHECK_FALSE(tooBig.next());
    CHECK(tooBig.broken());
}

TEST_CASE("protocol: control requests and replies") {
    ControlRequest req{ControlRequest::Kind::Ipvsadm, {"-A", "-t", "10.0.0.1:80", "-s", "rr"}, std::string("a\0b", 3)};
    const auto f = split(encode(req), 3).at(0);
    CHECK(decodeRequest(f) == req);
    ControlRequest disable{ControlRequest::Kind::Disable, {"10.0.0.1:80", "10.0.1.5:8080"}, "", false};
    CHECK(decodeRequest(split(encode(disable), 64).at(0)) == disable);
    ControlRequest servers{ControlRequest::Kind::Servers, {}, "", true};
    CHECK(decodeRequest(split(encode(servers), 64).at(0)) == servers);
    CHECK_FALSE(decodeReply(f));
    ControlReply rep{2, "out\n", "err\n"};
    CHECK(decodeReply(split(encode(rep), 5).at(0)) == rep);
    Frame bad = split(encode(ControlRequest{}), 64).at(0);
    bad.payload[0] = 9;  // no such kind
    CHECK_FALSE(decodeRequest(bad));
}
