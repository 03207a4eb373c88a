// The operator's state of the lvs worker (director/lvs/OperatorState.h): disable, enable, withdraw,
// what a restarted worker gets back, what a reload prunes, and slow starts, with time passed in.
#include <catch2/catch.hpp>

#include "unit/director/ConfigFixture.h"
#include "director/lvs/OperatorState.h"

using director::lvs::OperatorState;
using namespace std::chrono_literals;

namespace {

using fixture::load;
using fixture::rsId;

const char* kFarm = R"(
virtual_servers = (
  { address = "10.0.0.1"; port = 80; slow_start = 10;
    real_servers = ( { address = "10.0.1.1"; }, { address = "10.0.1.2"; slow_start = 0; },
                     { address = "10.0.1.3"; slow_start = 2; } ); },
  { address = "10.0.0.2"; port = 80; real_servers = ( { address = "10.0.1.1"; } ); }
);)";

const director::lvs::OperatorState::UpSince kNoTransition = [](const director::lvs::RsId&) { return std::optional<base::TimePoint>(); };

}  // namespace

TEST_CASE("operator state: disable and enable say whether anything changed, with their times") {
    const auto cfg = load(kFarm);
    director::lvs::OperatorState op;
    const auto a = rsId(cfg, 0, 0);
    const base::TimePoint t0{100s};
    CHECK(op.disable(a, 1000));
    CHECK_FALSE(op.disable(a, 2000));  // already: its time stays
    CHECK(op.disabled(a));
    CHECK(op.disabledSince(a) == 1000);
    CHECK_FALSE(op.enabledAt(a));
    CHECK(op.enable(a, 1500, t0));
    CHECK_FALSE(op.enable(a, 1600, t0));
    CHECK_FALSE(op.disabled(a));
    CHECK(op.enabledAt(a) == 1500);
    CHECK_FALSE(op.disabledSince(a));
    CHECK(op.disable(a, 1700));  // disabled again: its enable time is gone
    CHECK_FALSE(op.enabledAt(a));
}

TEST_CASE("operator state: withdraw, and what a restarted worker gets back") {
    const auto cfg = load(kFarm);
    director::lvs::OperatorState op;
    CHECK_FALSE(op.withdraw(false));
    CHECK(op.withdraw(true));
    CHECK_FALSE(op.withdraw(true));
    op.disable(rsId(cfg, 0, 1), 42);
    const auto m = op.message();
    CHECK(m.withdrawn);
    REQUIRE(m.disabled.size() == 1);
    CHECK(m.disabled[0].since == 42);
    director::lvs::OperatorState next;
    next.restore(m);
    CHECK(next.withdrawn());
    CHECK(next.disabled(rsId(cfg, 0, 1)));
    CHECK(next.disabledSince(rsId(cfg, 0, 1)) == 42);
    CHECK(next.disabledCount() == 1);
}

TEST_CASE("operator state: a reload ends the disables of real servers the config no longer has") {
    const auto cfg = load(kFarm);
    director::lvs::OperatorState op;
    op.disable(rsId(cfg, 0, 0), 1);
    op.disable(rsId(cfg, 0, 2), 2);
    op.disable(rsId(cfg, 1, 0), 3);  // the same real server under another virtual server
    const auto smaller = load(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; real_servers = ( { address = "10.0.1.1"; } ); } );)");
    const auto ended = op.prune(smaller);
    CHECK(ended == std::vector<director::lvs::RsId>{rsId(cfg, 0, 2), rsId(cfg, 1, 0)});
    CHECK(op.disabled(rsId(cfg, 0, 0)));
    CHECK(op.disabledCount() == 1);
    CHECK(op.prune(smaller).empty());
}

TEST_CASE("operator state: a slow start runs from the later of the last recovery and the enable") {
    const auto cfg = load(kFarm);
    const auto& vs = cfg.virtualServers[0];
    director::lvs::OperatorState op;
    const auto a = rsId(cfg, 0, 0);
    const base::TimePoint t0{1000s};
    // no transition and no enable: in full from the start (nothing to ramp from)
    CHECK_FALSE(op.ramp(vs, vs.realServers[0], a, true, kNoTransition, t0));
    // recovered at t0: a quarter of the way 2.5 s later, whole after 10 s
    const director::lvs::OperatorState::UpSince upAtT0 = [&](const director::lvs::RsId&) { return std::optional(t0); };
    CHECK(*op.ramp(vs, vs.realServers[0], a, true, upAtT0, t0 + 2500ms) == Approx(0.25));
    CHECK_FALSE(op.ramp(vs, vs.realServers[0], a, true, upAtT0, t0 + 10s));
    CHECK_FALSE(op.ramp(vs, vs.realServers[0], a, false, upAtT0, t0 + 1s));  // down: no ramp
    // enabled later than the recovery: the enable counts
    op.disable(a, 1);
    CHECK_FALSE(op.ramp(vs, vs.realServers[0], a, true, upAtT0, t0 + 1s));  // disabled: no ramp
    op.enable(a, 2, t0 + 5s);
    CHECK(*op.ramp(vs, vs.realServers[0], a, true, upAtT0, t0 + 7500ms) == Approx(0.25));
    // the real server's own slow_start = 0 overrides the virtual server's
    CHECK_FALSE(op.ramp(vs, vs.realServers[1], rsId(cfg, 0, 1), true, upAtT0, t0 + 1s));
    // old enables are forgotten an hour on; the recovery still counts
    op.forgetOldRamps(t0 + 5s + 2h);
    CHECK_FALSE(op.ramp(vs, vs.realServers[0], a, true, upAtT0, t0 + 5s + 2h));
}

TEST_CASE("operator state: marking a view, and how often a ramp is stepped") {
    const auto cfg = load(kFarm);
    const auto& vs = cfg.virtualServers[0];
    director::lvs::OperatorState op;
    const base::TimePoint t0{1000s};
    const director::lvs::OperatorState::UpSince upAtT0 = [&](const director::lvs::RsId&) { return std::optional(t0); };
    op.disable(rsId(cfg, 0, 1), 1);
    director::lvs::HealthView view;
    view.servers[rsId(cfg, 0, 2)] = director::lvs::RsHealth{false, std::nullopt, "refused", 1};  // down: no ramp
    CHECK(op.mark(view, vs, upAtT0, t0 + 1s));
    CHECK(view.disabled == std::set<director::lvs::RsId>{rsId(cfg, 0, 1)});
    CHECK(view.ramp.size() == 1);
    CHECK(view.ramp.at(rsId(cfg, 0, 0)) == Approx(0.1));
    director::lvs::HealthView later;
    CHECK_FALSE(op.mark(later, vs, upAtT0, t0 + 11s));  // every ramp over
    CHECK(later.ramp.empty());
    // a twentieth of the shortest slow start (2 s: 100 ms), never under 50 ms nor over 1 s
    CHECK(director::lvs::OperatorState::rampStep(cfg, {conf::serviceKey(vs)}) == 100ms);
    CHECK(director::lvs::OperatorState::rampStep(cfg, {conf::serviceKey(cfg.virtualServers[1])}) == 1s);
}
