// HealthTracker: rise/fall hysteresis for one check target. Pure: results in, transitions out.
// A target that is up goes down after `fall` consecutive failures; one that is down comes up after
// `rise` consecutive successes. `alpha` starts it down (it must earn its place); otherwise up.
#pragma once
#include <optional>

namespace healthcheck {

enum class Health { Up, Down };

struct Transition {
    Health from, to;
    int streak;  // consecutive results that caused it
};

class HealthTracker {
public:
    HealthTracker(int rise, int fall, bool startDown);
    // One probe result; returns the transition it caused, if any.
    std::optional<Transition> record(bool success);
    Health health() const { return health_; }
    int streak() const { return streak_; }

private:
    int rise_, fall_;
    Health health_;
    int streak_ = 0;  // consecutive results against the current health
};

}  // namespace healthcheck
