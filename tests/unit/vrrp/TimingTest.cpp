#include <catch2/catch.hpp>

#include "vrrp/Timing.h"

using namespace std::chrono_literals;

TEST_CASE("skew and master down interval follow RFC 5798") {
    // priority 100, 1 s: skew = 156/256 s = 609375 us; down = 3.609375 s
    CHECK(vrrp::skewTime(100, 1s) == vrrp::Micros(609375));
    CHECK(vrrp::masterDownInterval(100, 1s) == vrrp::Micros(3609375));
    // sub-centisecond precision: 10 ms interval, priorities 100 and 101 differ
    CHECK(vrrp::masterDownInterval(100, 10ms) != vrrp::masterDownInterval(101, 10ms));
    CHECK(vrrp::skewTime(255, 1s) == vrrp::Micros(3906));
    CHECK(vrrp::toCentiseconds(10ms) == 1);
    CHECK(vrrp::toCentiseconds(1s) == 100);
}
