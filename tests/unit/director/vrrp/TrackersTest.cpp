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
