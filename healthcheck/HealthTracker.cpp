#include "healthcheck/HealthTracker.h"

#include <algorithm>

namespace healthcheck {

HealthTracker::HealthTracker(int rise, int fall, bool startDown)
    : rise_(std::max(1, rise)), fall_(std::max(1, fall)), health_(startDown ? Health::Down : Health::Up) {}

std::optional<Transition> HealthTracker::record(bool success) {
    const bool agrees = (health_ == Health::Up) == success;
    if (agrees) {
        streak_ = 0;
        return std::nullopt;
    }
    ++streak_;
    const int needed = health_ == Health::Up ? fall_ : rise_;
    if (streak_ < needed) return std::nullopt;
    Transition t{health_, health_ == Health::Up ? Health::Down : Health::Up, streak_};
    health_ = t.to;
    streak_ = 0;
    return t;
}

}  // namespace healthcheck
