// The lvs worker's SNMP publishing part (director/lvs/LvsWorkerSnmp.cpp): a MIB snapshot for the
// status worker at start, traps when a real server goes down and comes back and when a VRRP role
// changes, and none of either when SNMP is off.
#include <catch2/catch.hpp>

#include "World.h"

using fixture::World;
using namespace std::chrono_literals;

namespace {

std::string farm(const char* snmp) {
    return std::string(R"(
global = { data_plane = "memory"; )") + snmp + R"( };
vrrp_instances = ( { name = "VI_1"; interface = "lo"; virtual_router_id = 9; priority = 100;
                     virtual_addresses = ( "10.0.0.1" ); } );
virtual_servers = (
  { address = "10.0.0.1"; port = 80; delay_loop = 10.0; retry = 0;
    real_servers = ( { address = "10.0.1.1"; port = 80; checks = ( { type = "tcp"; } ); },
                     { address = "10.0.1.2"; port = 80; checks = ( { type = "tcp"; } ); } ); }
);)";
}

// What the worker sends the status worker, by kind.
struct Front {
    explicit Front(World& w) : end(w.io), worker(w.io) {
        director::LocalChannel::connect(end, worker);
        end.onMessage([this](director::protocol::Message&& m) {
            if (std::holds_alternative<director::protocol::MibMsg>(m)) ++mibs;
            if (auto* t = std::get_if<director::protocol::TrapMsg>(&m)) traps.push_back(t->trap);
        });
        w.worker->setFront(worker);
    }
    director::LocalChannel end, worker;
    int mibs = 0;
    std::vector<snmp::Trap> traps;
};

}  // namespace

TEST_CASE("snmp publishing: a snapshot at start, traps for real servers and roles") {
    World w(farm(R"(snmp = { agentx_socket = "/nonexistent"; mibs = [ "keepalived", "vrrpv3" ]; traps = true; };)"));
    Front front(w);
    w.worker->start();
    w.advance(1s);
    CHECK(front.mibs >= 1);
    CHECK(front.traps.empty());  // nothing changed yet

    w.probes->results["10.0.1.1:80"] = healthcheck::ProbeResult::fail(healthcheck::Failure::Refused);
    w.advance(10s);
    REQUIRE(front.traps.size() == 1);  // realServerStateChange (KEEPALIVED-MIB)
    const auto down = front.traps.back().trapOid;
    w.probes->results.erase("10.0.1.1:80");
    w.advance(10s);
    REQUIRE(front.traps.size() == 2);
    CHECK(front.traps.back().trapOid == down);  // the same notification, now for "up"
    CHECK(front.traps[0].vars != front.traps[1].vars);

    w.vrrpEnd.send(director::protocol::RoleMsg{"VI_1", ::vrrp::State::Master});
    w.advance(1s);
    // keepalived's instance state change, and VRRPv3-MIB's new master
    CHECK(front.traps.size() == 4);
}

TEST_CASE("snmp publishing: nothing for the status worker when SNMP is off") {
    World w(farm(""));
    Front front(w);
    w.worker->start();
    w.probes->results["10.0.1.1:80"] = healthcheck::ProbeResult::fail(healthcheck::Failure::Refused);
    w.advance(10s);
    w.vrrpEnd.send(director::protocol::RoleMsg{"VI_1", ::vrrp::State::Master});
    w.advance(1s);
    CHECK(front.mibs == 0);
    CHECK(front.traps.empty());
}
