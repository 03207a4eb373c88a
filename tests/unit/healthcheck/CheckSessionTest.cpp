#include <catch2/catch.hpp>

#include "ScriptedProbe.h"
#include "healthcheck/CheckSession.h"

using namespace std::chrono_literals;
using healthcheck::Failure;
using healthcheck::Health;
using healthcheck::ProbeResult;

namespace {

struct Fixture {
    base::ManualClock clock;
    std::vector<base::TimePoint> runs;
    testutil::ScriptedProbe* probe = nullptr;
    std::vector<std::pair<base::TimePoint, Health>> transitions;
    std::unique_ptr<healthcheck::CheckSession> session;

    explicit Fixture(healthcheck::CheckTiming t) {
        auto p = std::make_unique<testutil::ScriptedProbe>(clock);
        p->runs = &runs;
        p->clock = &clock;
        probe = p.get();
        session = std::make_unique<healthcheck::CheckSession>(clock, std::move(p), t, 1);
        session->addListener([this](healthcheck::CheckSession&, const healthcheck::CheckSession::Event& e) {
            if (e.transition) transitions.emplace_back(clock.now(), e.transition->to);
        });
    }
    base::Duration at(size_t i) const { return runs.at(i).time_since_epoch(); }
};

healthcheck::CheckTiming timing(base::Duration interval, int retries, int rise, int fall) {
    healthcheck::CheckTiming t;
    t.interval = interval;
    t.retries = retries;
    t.retryDelay = 1s;
    t.rise = rise;
    t.fall = fall;
    return t;
}

}  // namespace

TEST_CASE("checks run every interval after the warmup") {
    auto t = timing(10s, 0, 1, 1);
    t.warmup = 5s;
    Fixture f(t);
    f.session->start();
    f.clock.advance(5s);
    REQUIRE(f.runs.size() == 1);
    const auto first = f.at(0);
    CHECK(first <= 5s);
    f.clock.advance(30s);
    REQUIRE(f.runs.size() >= 4);
    // each next attempt starts one interval after the previous result (latency 10 ms)
    CHECK(f.at(1) - f.at(0) == 10s + 10ms);
    CHECK(f.at(2) - f.at(1) == 10s + 10ms);
}

TEST_CASE("warmups spread checks out") {
    auto t = timing(10s, 0, 1, 1);
    t.warmup = 10s;
    base::ManualClock clock;
    std::vector<base::TimePoint> runs;
    std::vector<std::unique_ptr<healthcheck::CheckSession>> sessions;
    for (std::uint32_t i = 0; i < 50; ++i) {
        auto p = std::make_unique<testutil::ScriptedProbe>(clock);
        p->runs = &runs;
        p->clock = &clock;
        sessions.push_back(std::make_unique<healthcheck::CheckSession>(clock, std::move(p), t, i));
        sessions.back()->start();
    }
    clock.advance(10s);
    REQUIRE(runs.size() == 50);
    std::sort(runs.begin(), runs.end());
    CHECK(runs.back() - runs.front() > 5s);  // not all at once
}

TEST_CASE("a failure is retried before it counts; fall failures take it down") {
    Fixture f(timing(10s, 2, 1, 2));
    f.probe->fallback = ProbeResult::fail(Failure::Refused);
    f.session->start();
    // attempt at 0, retries at 1.01 s and 2.02 s (10 ms latency each): the third failure counts at
    // 2.03 s (1 of fall 2)
    f.clock.advance(2s + 30ms);
    CHECK(f.runs.size() == 3);
    CHECK(f.session->health() == Health::Up);
    CHECK(f.session->counters().counted == 1);
    // next cycle at 12.03 s, again 3 attempts; the second counted failure, at 14.06 s, takes it down
    f.clock.advance(12s);
    CHECK(f.transitions.empty());
    f.clock.advance(30ms);
    CHECK(f.runs.size() == 6);
    REQUIRE(f.transitions.size() == 1);
    CHECK(f.transitions[0].second == Health::Down);
    CHECK(f.session->lastResult()->failure == Failure::Refused);
}

TEST_CASE("a success in between resets the retries and the fall streak") {
    Fixture f(timing(10s, 1, 1, 2));
    f.probe->script = {ProbeResult::fail(Failure::Timeout),
                       ProbeResult::success(),  // retried: fine
                       ProbeResult::fail(Failure::Timeout),
                       ProbeResult::fail(Failure::Timeout),  // counted 1
                       ProbeResult::success(),               // streak reset
                       ProbeResult::fail(Failure::Timeout),
                       ProbeResult::fail(Failure::Timeout)};  // counted 1
    f.session->start();
    f.clock.advance(60s);
    CHECK(f.transitions.empty());
}

TEST_CASE("alpha starts down; rise successes bring it up; a down server recovers") {
    auto t = timing(5s, 0, 2, 1);
    t.startDown = true;
    Fixture f(t);
    CHECK(f.session->health() == Health::Down);
    f.session->start();
    f.clock.advance(6s);  // two successes
    REQUIRE(f.transitions.size() == 1);
    CHECK(f.transitions[0].second == Health::Up);
    f.probe->fallback = ProbeResult::fail(Failure::Reset);
    f.clock.advance(5s + 10ms);
    REQUIRE(f.transitions.size() == 2);
    CHECK(f.transitions[1].second == Health::Down);
    f.probe->fallback = ProbeResult::success();
    f.clock.advance(11s);
    REQUIRE(f.transitions.size() == 3);
    CHECK(f.transitions[2].second == Health::Up);
}

TEST_CASE("dynamic weight changes are events of their own") {
    Fixture f(timing(5s, 0, 1, 1));
    int weightEvents = 0;
    f.session->addListener([&](healthcheck::CheckSession&, const healthcheck::CheckSession::Event& e) {
        weightEvents += e.weightChanged;
    });
    ProbeResult w10 = ProbeResult::success();
    w10.weight = 10;
    ProbeResult w3 = ProbeResult::success();
    w3.weight = 3;
    f.probe->script = {w10, w10, w3};
    f.session->start();
    f.clock.advance(11s);
    CHECK(weightEvents == 2);
    CHECK(f.session->dynamicWeight() == 3);
}

TEST_CASE("pause stops checking and resume starts a fresh cycle") {
    Fixture f(timing(5s, 0, 1, 1));
    f.session->start();
    f.clock.advance(1s);
    CHECK(f.runs.size() == 1);
    f.session->pause();
    f.clock.advance(60s);
    CHECK(f.runs.size() == 1);
    f.session->resume();
    f.clock.advance(1s);
    CHECK(f.runs.size() == 2);
    f.session->stop();
    f.clock.advance(60s);
    CHECK(f.runs.size() == 2);
    CHECK(f.clock.pendingTimers() == 0);
}
