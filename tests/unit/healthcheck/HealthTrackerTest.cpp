#include <catch2/catch.hpp>

#include "healthcheck/HealthTracker.h"

using healthcheck::Health;
using healthcheck::HealthTracker;

TEST_CASE("fall consecutive failures take a server down; a success resets the count") {
    HealthTracker t(2, 3, false);
    CHECK_FALSE(t.record(false));
    CHECK_FALSE(t.record(false));
    CHECK_FALSE(t.record(true));  // streak broken
    CHECK_FALSE(t.record(false));
    CHECK_FALSE(t.record(false));
    auto tr = t.record(false);
    REQUIRE(tr);
    CHECK(tr->from == Health::Up);
    CHECK(tr->to == Health::Down);
    CHECK(tr->streak == 3);
    CHECK(t.health() == Health::Down);
}

TEST_CASE("rise consecutive successes bring it back; alpha starts down") {
    HealthTracker t(2, 1, true);
    CHECK(t.health() == Health::Down);
    CHECK_FALSE(t.record(true));
    auto tr = t.record(true);
    REQUIRE(tr);
    CHECK(tr->to == Health::Up);
    tr = t.record(false);
    REQUIRE(tr);
    CHECK(tr->to == Health::Down);
}
