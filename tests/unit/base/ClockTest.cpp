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
