// The operator's surface, without a daemon: disabled real servers and slow starts in the desired
// table, real servers named on directorctl's command line, and directorctl's tables.
#include <catch2/catch.hpp>

#include "unit/director/ConfigFixture.h"

#include "conf/Loader.h"
#include "director/lvs/DesiredState.h"
#include "director/lvs/ServerRef.h"
#include "director/status/StatusReport.h"

namespace {

using fixture::load;

const char* kFarm = R"(
virtual_servers = (
  { address = "10.0.0.1"; port = 80; quorum = 3; slow_start = 10;
    real_servers = ( { address = "10.0.1.1"; weight = 10; }, { address = "10.0.1.2"; weight = 2; slow_start = 0; },
                     { address = "10.0.1.3"; port = 81; } ); },
  { address = "10.0.0.1"; port = 80; protocol = "udp"; real_servers = ( { address = "10.0.1.1"; } ); },
  { address = "2001:db8::1"; port = 53; protocol = "udp"; real_servers = ( { address = "2001:db8::5"; } ); },
  { fwmark = 5; real_servers = ( { address = "10.0.1.9"; } ); }
);)";

kmod::DestKey dk(const char* a, int port) { return {*base::IpAddress::parse(a), static_cast<std::uint16_t>(port)}; }

}  // namespace

TEST_CASE("slow start: the share of the weight grows with time, at least 1, whole at the end") {
    using namespace std::chrono_literals;
    CHECK(director::lvs::rampShare(0s, 10s) == 0);
    CHECK(director::lvs::rampShare(2500ms, 10s) == Approx(0.25));
    CHECK(director::lvs::rampShare(10s, 10s) == 1);
    CHECK(director::lvs::rampShare(3s, 0s) == 1);  // no slow start
    CHECK(director::lvs::rampedWeight(10, 0) == 1);
    CHECK(director::lvs::rampedWeight(10, 0.25) == 3);
    CHECK(director::lvs::rampedWeight(10, 0.999) == 10);
    CHECK(director::lvs::rampedWeight(10, 1) == 10);
    CHECK(director::lvs::rampedWeight(0, 0.5) == 0);  // quiesced stays quiesced
    CHECK(director::lvs::rampedWeight(65535, 0.5) == 32768);
}

TEST_CASE("a disabled real server stays in the table at weight 0 and no longer counts for quorum") {
    const conf::Config cfg = load(kFarm);
    const auto& vs = cfg.virtualServers[0];
    const auto key = director::lvs::serviceKey(vs);
    director::lvs::HealthView h;
    CHECK(director::lvs::liveWeight(vs, h) == 13);
    h.disabled.insert({key, dk("10.0.1.1", 80)});
    CHECK(director::lvs::liveWeight(vs, h) == 3);
    h.ramp[{key, dk("10.0.1.3", 81)}] = 0.5;  // ramping servers count whole: they are up
    CHECK(director::lvs::liveWeight(vs, h) == 3);
    const auto t = director::lvs::desiredTable(cfg, h);
    const auto& dests = t.services.at(key).dests;
    REQUIRE(dests.size() == 3);
    CHECK(dests.at(dk("10.0.1.1", 80)).weight == 0);
    CHECK(dests.at(dk("10.0.1.2", 80)).weight == 2);
    CHECK(dests.at(dk("10.0.1.3", 81)).weight == 1);  // half of 1, at least 1
    // a disabled server that is down and not inhibited is out of the table, as any down server
    h.servers[{key, dk("10.0.1.1", 80)}] = director::lvs::RsHealth{false, std::nullopt, "refused", 1};
    CHECK_FALSE(director::lvs::desiredTable(cfg, h).services.at(key).dests.contains(dk("10.0.1.1", 80)));
}

TEST_CASE("directorctl names: virtual servers as it shows them, real servers by address") {
    const conf::Config cfg = load(kFarm);
    std::string error;
    auto ref = director::lvs::findServer(cfg, "10.0.0.1:80/tcp", "10.0.1.3:81", error);
    REQUIRE(ref);
    CHECK(ref->vs == &cfg.virtualServers[0]);
    CHECK(ref->rs == &cfg.virtualServers[0].realServers[2]);
    ref = director::lvs::findServer(cfg, "10.0.0.1:80/udp", "10.0.1.1", error);  // bare address: unique in the service
    REQUIRE(ref);
    CHECK(ref->vs == &cfg.virtualServers[1]);
    REQUIRE(director::lvs::findServer(cfg, "[2001:db8::1]:53", "[2001:db8::5]:53", error));
    REQUIRE(director::lvs::findServer(cfg, "fwmark:5", "10.0.1.9:0", error));
    REQUIRE(director::lvs::findServer(cfg, "fwmark 5", "10.0.1.9", error));
    // tcp and udp share the address and port: the protocol is needed
    CHECK_FALSE(director::lvs::findServer(cfg, "10.0.0.1:80", "10.0.1.1:80", error));
    CHECK(error == "10.0.0.1:80 names 2 virtual servers (10.0.0.1:80/tcp, 10.0.0.1:80/udp); add the protocol");
    CHECK_FALSE(director::lvs::findServer(cfg, "10.0.0.2:80/tcp", "10.0.1.1:80", error));
    CHECK(error.starts_with("no virtual server 10.0.0.2:80/tcp in t.conf (there are: 10.0.0.1:80/tcp, "));
    CHECK_FALSE(director::lvs::findServer(cfg, "10.0.0.1:80/tcp", "10.0.1.1:81", error));
    CHECK(error == "no real server 10.0.1.1:81 in 10.0.0.1:80/tcp (it has: 10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:81)");
    CHECK_FALSE(director::lvs::findServer(cfg, "web", "10.0.1.1", error));
    CHECK(error.find("is not a virtual server") != std::string::npos);
    CHECK_FALSE(director::lvs::findServer(cfg, "10.0.0.1:80/tcp", "x", error));
    CHECK(error.find("is not a real server") != std::string::npos);
    CHECK_FALSE(director::lvs::findServer(cfg, "fwmark:0", "10.0.1.9", error));
}

TEST_CASE("directorctl's tables: one row per server, aligned, with state, weights and why") {
    director::status::StatusReport r;
    r.pid = 42;
    r.version = "0.1.0";
    r.configFile = "/etc/directord/directord.conf";
    r.dataPlane = "userspace";
    r.now = 1000000;
    director::status::ServiceRow s;
    s.vs = "10.0.0.1:80/tcp";
    s.scheduler = "wlc";
    s.forwarding = "nat";
    director::status::ServerRow up;
    up.rs = "10.0.1.1:80";
    up.configuredWeight = 10;
    up.applied = 3;
    up.ramp = 0.25;
    up.since = r.now - 65;
    up.why = "tcp 10.0.1.1:80: ok";
    director::status::ServerRow disabled = up;
    disabled.rs = "10.0.1.2:80";
    disabled.ramp.reset();
    disabled.disabled = true;
    disabled.applied = 0;
    disabled.activeConns = 7;
    disabled.why = "disabled by directorctl disable";
    director::status::ServerRow down = up;
    down.rs = "10.0.1.3:8080";
    down.ramp.reset();
    down.up = false;
    down.applied.reset();
    down.why = "tcp 10.0.1.3:8080: refused";
    s.servers = {up, disabled, down};
    r.services.push_back(s);
    const std::string servers = director::status::renderServers(r);
    INFO(servers);
    CHECK(servers.starts_with("VIRTUAL SERVER   REAL SERVER    STATE          WEIGHT  ACTIVE  INACTIVE  SINCE"));
    CHECK(servers.find("\n10.0.0.1:80/tcp  10.0.1.1:80    UP,SLOW-START  3/10    0       0") != std::string::npos);
    CHECK(servers.find("\n                 10.0.1.2:80    DISABLED       0/10    7       0") != std::string::npos);
    CHECK(servers.find("\n                 10.0.1.3:8080  DOWN           -/10") != std::string::npos);
    CHECK(servers.find("(1m5s)  tcp 10.0.1.1:80: ok\n") != std::string::npos);
    const std::string status = director::status::renderStatus(r);
    INFO(status);
    CHECK(status.starts_with("directord 0.1.0, pid 42, userspace data plane\n"));
    CHECK(status.find("no VRRP instances configured") != std::string::npos);
    CHECK(status.find("10.0.0.1:80/tcp  wlc        nat         1 of 3 up, 1 disabled  ok") != std::string::npos);
    CHECK(status.find("disabled: 10.0.1.2:80 of 10.0.0.1:80/tcp since ") != std::string::npos);
    base::JsonWriter w;
    director::status::writeServersJson(w, r);
    CHECK(w.str().find(R"("real_server":"10.0.1.2:80","state":"DISABLED","up":true,"disabled":true)") !=
          std::string::npos);
    CHECK(w.str().find(R"("applied_weight":null)") != std::string::npos);
    CHECK(w.str().find(R"("slow_start_share":0.25)") != std::string::npos);
    CHECK(director::status::renderVrrp(r) == "no VRRP instances configured\n");
}
