// The lvs worker's decisions from health, end to end on a manual clock: real servers leave and
// rejoin the table, inhibit, dynamic weight, quorum with hysteresis and the sorry server, alpha,
// omega, ha_suspend, one session for a check shared by several services, reload without flapping.
#include <catch2/catch.hpp>

#include "../../healthcheck/ScriptedProbe.h"
#include "../RecordingCommandRunner.h"
#include "World.h"
#include "base/Log.h"
#include "conf/Loader.h"
#include "director/lvs/LvsWorker.h"
#include "kmod/memory/InMemoryIpvsTable.h"

using namespace std::chrono_literals;
using healthcheck::Failure;
using healthcheck::ProbeResult;

namespace {

using fixture::World;

const char* kFarm = R"(
global = { data_plane = "memory"; };
virtual_servers = (
  { address = "10.0.0.1"; port = 80; delay_loop = 10.0; connect_timeout = 2.0; retry = 0;
    quorum = 3; hysteresis = 1; quorum_up = "/bin/qup"; quorum_down = "/bin/qdown";
    sorry_server = { address = "10.0.9.9"; port = 80; };
    real_servers = (
      { address = "10.0.1.1"; port = 80; weight = 2; notify_down = "/bin/down 1"; notify_up = "/bin/up 1";
        checks = ( { type = "tcp"; fall = 2; rise = 2; } ); },
      { address = "10.0.1.2"; port = 80; weight = 2; checks = ( { type = "tcp"; } ); },
      { address = "10.0.1.3"; port = 80; weight = 1; inhibit_on_failure = true; checks = ( { type = "tcp"; } ); }
    ); }
);)";

}  // namespace

TEST_CASE("a failing real server leaves the table after fall checks and returns after rise") {
    World w(kFarm);
    w.worker->start();
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 2);
    w.probes->results["10.0.1.1:80"] = ProbeResult::fail(Failure::Refused);
    w.advance(1s);  // first checks at t=0: one failure of fall 2
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 2);
    w.advance(10s);  // second failure: down
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
    CHECK(w.commands->runs == std::vector<std::string>{"notify_down for rs 10.0.1.1:80: /bin/down 1"});
    w.probes->results.erase("10.0.1.1:80");
    w.advance(10s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);  // rise 2
    w.advance(10s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 2);
    CHECK(w.commands->runs.back() == "notify_up for rs 10.0.1.1:80: /bin/up 1");
}

TEST_CASE("inhibit_on_failure keeps a failed server with weight 0") {
    World w(kFarm);
    w.worker->start();
    w.probes->results["10.0.1.3:80"] = ProbeResult::fail(Failure::Timeout);
    w.advance(1s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.3", 80) == 0);
}

TEST_CASE("quorum with hysteresis hands the service to the sorry server and back") {
    World w(kFarm);
    w.worker->start();  // live weight 5, quorum 3, hysteresis 1: lost below 2, regained at 4
    w.probes->results["10.0.1.2:80"] = ProbeResult::fail(Failure::Refused);
    w.probes->results["10.0.1.3:80"] = ProbeResult::fail(Failure::Refused);
    w.advance(1s);  // live 2: not below 2
    CHECK(w.weight("10.0.0.1", 80, "10.0.9.9", 80) == -1);
    w.probes->results["10.0.1.1:80"] = ProbeResult::fail(Failure::Refused);
    w.advance(20s);  // live 0: lost
    CHECK(w.weight("10.0.0.1", 80, "10.0.9.9", 80) == 1);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
    CHECK(std::count(w.commands->runs.begin(), w.commands->runs.end(),
                     "quorum_down for vs 10.0.0.1:80/tcp: /bin/qdown") == 1);
    w.probes->results.erase("10.0.1.2:80");
    w.advance(10s);  // live 2: not yet 4
    CHECK(w.weight("10.0.0.1", 80, "10.0.9.9", 80) == 1);
    w.probes->results.erase("10.0.1.1:80");
    w.advance(20s);  // live 4: regained
    CHECK(w.weight("10.0.0.1", 80, "10.0.9.9", 80) == -1);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 2);
    CHECK(w.commands->runs.back() == "quorum_up for vs 10.0.0.1:80/tcp: /bin/qup");
}

TEST_CASE("dynamic weight from a script check sets the weight") {
    World w(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; delay_loop = 5.0;
  real_servers = ( { address = "10.0.1.1"; port = 80; weight = 1;
    checks = ( { type = "script"; script = "/bin/w"; dynamic_weight = true; } ); } ); } );)");
    ProbeResult r = ProbeResult::success();
    r.weight = 42;
    w.probes->results["10.0.1.1:80"] = r;
    w.worker->start();
    w.advance(1s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 42);
}

TEST_CASE("misc_dynamic as keepalived, without its bug #2720: timeouts never add up") {
    // keepalived 2.x: exit 2..255 sets the weight to code - 2, exit 0 is the configured weight, a
    // failure takes the server out. Its #2720: after a script timeout its delta stays counted and
    // the next success adds it again, so the weight grows with each timeout. Here the weight is
    // what the last success said, whatever came in between.
    World w(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; delay_loop = 5.0; retry = 0; quorum = 0;
  real_servers = ( { address = "10.0.1.1"; port = 80; weight = 3;
    checks = ( { type = "script"; script = "/bin/w"; dynamic_weight = true; } ); } ); } );)");
    ProbeResult ten = ProbeResult::success();
    ten.weight = 10;  // exit 12
    w.probes->results["10.0.1.1:80"] = ten;
    w.worker->start();
    w.advance(1s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 10);
    for (int round = 0; round < 3; ++round) {
        w.probes->results["10.0.1.1:80"] = ProbeResult::fail(Failure::ScriptTimeout);
        w.advance(5s);
        CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
        w.probes->results["10.0.1.1:80"] = ten;
        w.advance(5s);
        CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 10);
    }
    w.probes->results["10.0.1.1:80"] = ProbeResult::success();  // exit 0: the configured weight
    w.advance(5s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 3);
}

TEST_CASE("alpha: servers stay out until their first success") {
    World w(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; alpha = true; quorum = 0; delay_loop = 5.0;
  real_servers = ( { address = "10.0.1.1"; port = 80; checks = ( { type = "tcp"; } ); } ); } );)");
    w.worker->start();
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
    w.advance(1s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 1);
}

TEST_CASE("one check shared by two services runs once and feeds both") {
    World w(R"(
virtual_servers = (
  { address = "10.0.0.1"; port = 80; delay_loop = 5.0; real_servers = ( { address = "10.0.1.1"; port = 80; checks = ( { type = "tcp"; } ); } ); },
  { address = "10.0.0.2"; port = 80; delay_loop = 5.0; real_servers = ( { address = "10.0.1.1"; port = 80; checks = ( { type = "tcp"; } ); } ); }
);)");
    w.worker->start();
    CHECK(w.probes->made == 1);
    CHECK(w.worker->health().sessionCount() == 1);
    w.probes->results["10.0.1.1:80"] = ProbeResult::fail(Failure::Refused);
    w.advance(3s);  // the default retry 1 with delay_before_retry 1 s, then down
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
    CHECK(w.weight("10.0.0.2", 80, "10.0.1.1", 80) == -1);
}

TEST_CASE("reload keeps the state of unchanged checks: a down server stays down, no flap") {
    World w(kFarm);
    w.worker->start();
    w.probes->results["10.0.1.2:80"] = ProbeResult::fail(Failure::Refused);
    w.advance(1s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.2", 80) == -1);
    const int made = w.probes->made;
    auto r = conf::loadString(std::string(kFarm).replace(std::string(kFarm).find("weight = 1;"), 11, "weight = 5;"),
                              "t.conf");
    REQUIRE(r.ok());
    w.table->clearOpLog();
    w.worker->reload(*r.config);
    CHECK(w.probes->made == made);  // no check rebuilt
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.2", 80) == -1);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.3", 80) == 5);
    CHECK(w.table->opLog().size() == 1);  // just the weight
}

TEST_CASE("ha_suspend: checks run only while the VIP's instance is MASTER") {
    World w(R"(
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 1; virtual_addresses = [ "10.0.0.1/24" ]; } );
virtual_servers = ( { address = "10.0.0.1"; port = 80; ha_suspend = true; delay_loop = 5.0;
  real_servers = ( { address = "10.0.1.1"; port = 80; checks = ( { type = "tcp"; } ); } ); } );)");
    w.probes->results["10.0.1.1:80"] = ProbeResult::fail(Failure::Refused);
    w.worker->start();
    w.advance(30s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 1);  // never checked
    w.vrrpEnd.send(director::protocol::RoleMsg{"VI_1", vrrp::State::Master});
    w.advance(3s);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == -1);
}

TEST_CASE("omega runs down notifiers and quorum_down at shutdown") {
    World w(std::string(kFarm).replace(std::string(kFarm).find("quorum = 3;"), 11, "quorum = 3; omega = true;"));
    w.worker->start();
    w.advance(1s);
    w.commands->runs.clear();
    w.worker->stop();
    CHECK(w.commands->runs == std::vector<std::string>{"quorum_down (omega) for vs 10.0.0.1:80/tcp: /bin/qdown",
                                                       "notify_down (omega) for rs 10.0.1.1:80: /bin/down 1"});
    CHECK(w.table->state().services.empty());
}
