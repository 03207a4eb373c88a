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
