#include <catch2/catch.hpp>

#include "base/Clock.h"

using namespace std::chrono_literals;

TEST_CASE("manual clock fires due timers in deadline order, rescheduling included") {
    base::ManualClock clock;
    auto a = clock.makeTimer(), b = clock.makeTimer(), c = clock.makeTimer();
    std::vector<std::string> fired;
    a->schedule(3s, [&] { fired.push_back("a"); });
    b->schedule(1s, [&] {
        fired.push_back("b");
        b->schedule(1s, [&] { fired.push_back("b2"); });
    });
    c->schedule(5s, [&] { fired.push_back("c"); });
    clock.advance(500ms);
    CHECK(fired.empty());
    clock.advance(2500ms);
    CHECK(fired == std::vector<std::string>{"b", "b2", "a"});
    CHECK(clock.now().time_since_epoch() == 3s);
    c->cancel();
    clock.advance(10s);
    CHECK(fired.size() == 3);
    CHECK_FALSE(c->pending());
}

TEST_CASE("a destroyed timer never fires") {
    base::ManualClock clock;
    bool fired = false;
    {
        auto t = clock.makeTimer();
        t->schedule(1s, [&] { fired = true; });
    }
    clock.advance(2s);
    CHECK_FALSE(fired);
    CHECK(clock.pendingTimers() == 0);
}

TEST_CASE("asio timers fire once and can be replaced") {
    asio::io_context io;
    base::AsioTimerFactory f(io);
    auto t = f.makeTimer();
    int n = 0;
    t->schedule(50ms, [&] { n += 10; });
    t->schedule(1ms, [&] { n += 1; });  // replaces the first
    io.run();
    CHECK(n == 1);
}

TEST_CASE("coalesced timers fire in deadline order, on their grain, replaced and cancelled lazily") {
    asio::io_context io;
    base::CoalescedTimerFactory f(io, 5ms);
    std::vector<int> order;
    std::vector<std::unique_ptr<base::Timer>> ts;
    for (int i = 0; i < 6; ++i) ts.push_back(f.makeTimer());
    const auto t0 = base::Clock::now();
    base::TimePoint firedAt{};
    ts[0]->schedule(30ms, [&] { order.push_back(0); });
    ts[1]->schedule(10ms, [&] {
        order.push_back(1);
        firedAt = base::Clock::now();
    });
    ts[2]->schedule(20ms, [&] { order.push_back(2); });
    ts[3]->schedule(15ms, [&] { order.push_back(3); });
    ts[3]->schedule(1ms, [&] { order.push_back(33); });  // replaces: 3 never fires
    ts[4]->schedule(5ms, [&] { order.push_back(4); });
    ts[4]->cancel();
    CHECK_FALSE(ts[4]->pending());
    CHECK(ts[2]->pending());
    ts[5]->schedule(12ms, [&] { order.push_back(5); });
    ts[5].reset();  // destroyed while scheduled: never fires
    ts[2]->schedule(20ms, [&] {  // a callback that schedules itself again and destroys another timer
        order.push_back(2);
        ts[0].reset();
        ts[2]->schedule(1ms, [&] { order.push_back(22); });
    });
    io.run();
    CHECK(order == std::vector<int>{33, 1, 2, 22});
    CHECK(firedAt - t0 >= 10ms);
    for (auto& t : ts)
        if (t) CHECK_FALSE(t->pending());
}

TEST_CASE("coalesced timers: many reschedules keep the heap bounded and a dead factory fires nothing") {
    asio::io_context io;
    int n = 0;
    std::unique_ptr<base::Timer> t;
    {
        base::CoalescedTimerFactory f(io, 1ms);
        t = f.makeTimer();
        for (int i = 0; i < 10000; ++i) t->schedule(std::chrono::seconds(10 + i), [&] { ++n; });
        t->schedule(2ms, [&] { ++n; });
        io.run_for(50ms);
        CHECK(n == 1);
        t->schedule(1ms, [&] { ++n; });
    }
    io.restart();
    io.run_for(20ms);
    CHECK(n == 1);
    t.reset();
}

#include "base/Log.h"

TEST_CASE("log lines escape control characters and NULs: a script's output cannot forge a line") {
    using base::log::escapeControl;
    CHECK(escapeControl("plain text: ok") == "plain text: ok");
    CHECK(escapeControl("out\n2026-12-06T00:00:00.000Z lvs[1] error: forged") ==
          "out\\n2026-12-06T00:00:00.000Z lvs[1] error: forged");
    CHECK(escapeControl(std::string("a\0b\x1b[31m\x7f\tz\r", 12)) == "a\\x00b\\x1b[31m\\x7f\\tz\\r");
    CHECK(escapeControl("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes
    std::string captured;
    static std::string* sinkTo = nullptr;
    sinkTo = &captured;
    base::log::setSink([](base::log::Level, const std::string& m) { *sinkTo = m; });
    base::log::error("script said: ", std::string("x\0y\nz", 5));
    base::log::setSink(nullptr);
    CHECK(captured == "script said: x\\x00y\\nz");
}
