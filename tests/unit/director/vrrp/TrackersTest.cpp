// The vrrp worker's tracker kinds: keepalived's weight rules, the registry, and track_script run
// for real (/bin/true and /bin/false) with rise/fall and reload keeping a tracker's state.
#include <catch2/catch.hpp>

#include <chrono>

#include "director/vrrp/Trackers.h"
#include "unit/director/ConfigFixture.h"

using director::vrrp::addTracked;
using director::vrrp::Tracking;

namespace {

std::string farm(const char* second) {
    return std::string(R"(
vrrp_scripts = (
  { name = "ok"; script = [ "/bin/true" ]; interval = 0.05; weight = 10; },
  { name = "bad"; script = [ ")") + second + R"(" ]; interval = 0.05; weight = -20; fall = 2; rise = 1; },
  { name = "fatal"; script = [ "/bin/false" ]; interval = 0.05; weight = 0; }
);
vrrp_instances = (
  { name = "A"; interface = "lo"; virtual_router_id = 1; priority = 100; virtual_addresses = ( "10.0.0.1" );
    track_scripts = ( { script = "ok"; }, { script = "bad"; } ); },
  { name = "B"; interface = "lo"; virtual_router_id = 2; priority = 100; virtual_addresses = ( "10.0.0.2" );
    track_scripts = ( { script = "fatal"; }, { script = "ok"; weight = 3; } ); }
);)";
}

// Runs the loop until every tracked script of every instance has a result (or 10 s pass).
void settle(asio::io_context& io, director::vrrp::TrackerKind& kind, const conf::Config& cfg, int wantKnown) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(50));
        int known = 0;
        for (const auto& v : cfg.vrrpInstances) {
            std::map<std::string, int> states;
            kind.states(v, states);
            for (const auto& [name, code] : states) known += code != 1;
        }
        if (known >= wantKnown) return;
    }
}

director::protocol::Message protocol_msg(const std::string& name, bool up) {
    return director::protocol::BfdStateMsg{name, up};
}

}  // namespace

TEST_CASE("tracking: keepalived's weight rules") {
    Tracking t;
    addTracked(t, 10, true);    // positive, succeeding: added
    addTracked(t, 10, false);   // positive, failing: nothing
    addTracked(t, -5, false);   // negative, failing: added
    addTracked(t, -5, true);    // negative, succeeding: nothing
    CHECK(t == Tracking{5, false});
    addTracked(t, 0, true);
    CHECK_FALSE(t.fault);
    addTracked(t, 0, false);  // weight 0 and failing: FAULT
    CHECK(t.fault);
    // reverse: the weight is multiplied by -1 (applied on the same side), weight 0 FAULTs on success
    Tracking r;
    addTracked(r, 10, true, true);   // positive, succeeding: -10
    addTracked(r, -5, false, true);  // negative, failing: +5
    addTracked(r, -5, true, true);   // negative, succeeding: nothing
    CHECK(r == Tracking{-5, false});
    addTracked(r, 0, false, true);
    CHECK_FALSE(r.fault);
    addTracked(r, 0, true, true);
    CHECK(r.fault);
}

TEST_CASE("tracking: every kind has a row, each named once") {
    asio::io_context io;
    const auto kinds = director::vrrp::makeTrackerKinds(io, [] {});
    REQUIRE_FALSE(kinds.empty());
    std::set<std::string_view> names;
    for (const auto& k : kinds) CHECK(names.insert(k->name()).second);
    CHECK(names.contains("track_script"));
}

TEST_CASE("tracking: track_script runs the scripts and sums per instance", "[root]") {
    asio::io_context io;
    int changes = 0;
    director::vrrp::ScriptTrackers scripts(io, [&] { ++changes; });
    auto cfg = fixture::load(farm("/bin/false"));
    scripts.configure(cfg);
    settle(io, scripts, cfg, 4);
    // A: ok (+10, succeeding), bad (-20, failing twice: fall = 2)
    io.run_for(std::chrono::milliseconds(300));
    CHECK(scripts.tracking(cfg.vrrpInstances[0]) == Tracking{-10 + 20 - 20, false});
    // B: fatal (weight 0, failing: FAULT), ok with the instance's own weight 3
    CHECK(scripts.tracking(cfg.vrrpInstances[1]) == Tracking{3, true});
    std::map<std::string, int> states;
    scripts.states(cfg.vrrpInstances[0], states);
    CHECK(states == std::map<std::string, int>{{"bad", 2}, {"ok", 3}});
    CHECK(changes >= 2);  // bad and fatal each changed state once

    // A reload that changes one script restarts it (back to "succeeding" until it fails), and
    // keeps the others with their state.
    auto next = fixture::load(farm("/bin/true"));
    scripts.configure(next);
    std::map<std::string, int> after;
    scripts.states(next.vrrpInstances[1], after);
    CHECK(after.at("fatal") == 2);  // unchanged: kept, still failing
    CHECK(after.at("ok") == 3);
    io.run_for(std::chrono::milliseconds(300));
    CHECK(scripts.tracking(next.vrrpInstances[0]) == Tracking{10, false});
    scripts.stop();
    io.run_for(std::chrono::milliseconds(100));
}

TEST_CASE("tracking: init_fail starts a script failed until rise successes, not in a restarted worker", "[root]") {
    const char* text = R"(
vrrp_scripts = ( { name = "slow"; script = [ "/bin/true" ]; interval = 0.05; weight = 0; rise = 3; init_fail = true; } );
vrrp_instances = ( { name = "A"; interface = "lo"; virtual_router_id = 1; virtual_addresses = ( "10.0.0.1" );
                     track_scripts = ( { script = "slow"; } ); } );)";
    auto cfg = fixture::load(text);
    REQUIRE(cfg.vrrpScripts.at(0).initFail);
    {
        asio::io_context io;
        director::vrrp::ScriptTrackers scripts(io, [] {});
        scripts.configure(cfg);
        CHECK(scripts.tracking(cfg.vrrpInstances[0]).fault);  // failed before it ever ran
        io.run_for(std::chrono::milliseconds(60));
        CHECK(scripts.tracking(cfg.vrrpInstances[0]).fault);  // one success of the three it needs
        settle(io, scripts, cfg, 1);
        io.run_for(std::chrono::milliseconds(400));
        CHECK_FALSE(scripts.tracking(cfg.vrrpInstances[0]).fault);  // rise = 3 successes: up
        scripts.stop();
        io.run_for(std::chrono::milliseconds(100));
    }
    {
        asio::io_context io;
        director::vrrp::ScriptTrackers scripts(io, [] {});
        scripts.resuming();  // a restarted worker: its instances resume as they were
        scripts.configure(cfg);
        CHECK_FALSE(scripts.tracking(cfg.vrrpInstances[0]).fault);
        scripts.stop();
        io.run_for(std::chrono::milliseconds(100));
    }
}

TEST_CASE("tracking: track_bfd follows the lvs worker's BfdStateMsg with keepalived's rules") {
    const auto cfg = fixture::load(R"(
bfd_instances = ( { name = "gw"; neighbor_ip = "10.0.0.9"; },
                  { name = "up"; neighbor_ip = "10.0.0.8"; weight = 7; } );
vrrp_instances = (
  { name = "A"; interface = "lo"; virtual_router_id = 1; virtual_addresses = ( "10.0.0.1" );
    track_bfds = ( { bfd = "gw"; } ); },
  { name = "B"; interface = "lo"; virtual_router_id = 2; virtual_addresses = ( "10.0.0.2" );
    track_bfds = ( { bfd = "gw"; weight = -20; }, { bfd = "up"; } ); },
  { name = "C"; interface = "lo"; virtual_router_id = 3; virtual_addresses = ( "10.0.0.3" );
    track_bfds = ( { bfd = "gw"; weight = 5; reverse = true; }, { bfd = "up"; weight = 0; reverse = true; } ); }
);)");
    director::vrrp::BfdTrackers k;
    k.configure(cfg);
    const auto& a = cfg.vrrpInstances[0];
    const auto& b = cfg.vrrpInstances[1];
    const auto& c = cfg.vrrpInstances[2];
    // nothing heard: every session counts as down (an instance tracking one with weight 0 is FAULT)
    CHECK(k.tracking(a) == Tracking{0, true});
    CHECK(k.tracking(b) == Tracking{-20, false});
    CHECK(k.tracking(c) == Tracking{0, false});  // reverse, weight 0: down is fine
    std::map<std::string, int> states;
    k.states(b, states);
    CHECK(states == std::map<std::string, int>{{"gw", 1}, {"up", 1}});
    CHECK(k.heard(protocol_msg("gw", true)));
    CHECK_FALSE(k.heard(protocol_msg("gw", true)));  // no change, nothing to apply
    CHECK_FALSE(k.heard(director::protocol::Message{director::protocol::HeartbeatMsg{}}));
    CHECK(k.tracking(a) == Tracking{0, false});
    CHECK(k.tracking(b) == Tracking{0, false});
    CHECK(k.tracking(c) == Tracking{-5, false});  // reverse multiplies the weight by -1
    CHECK(k.heard(protocol_msg("up", true)));
    CHECK(k.tracking(b) == Tracking{7, false});   // the BFD instance's own weight
    CHECK(k.tracking(c) == Tracking{-5, true});   // reverse, weight 0: Up is FAULT
    states.clear();
    k.states(b, states);
    CHECK(states == std::map<std::string, int>{{"gw", 3}, {"up", 3}});
    CHECK(k.heard(protocol_msg("gw", false)));
    CHECK(k.tracking(a) == Tracking{0, true});
    // a reload keeps what was heard
    k.configure(cfg);
    CHECK(k.tracking(b) == Tracking{-13, false});
}
