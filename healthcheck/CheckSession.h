// CheckSession: runs one check against one target on a timer: a random warmup delay before the first
// attempt, then one attempt every interval; a failed attempt is retried `retries` times (after
// retryDelay each) before it counts; counted results go through HealthTracker (rise/fall).
// Listeners hear about health transitions and dynamic-weight changes. Time comes from a
// TimerFactory, so the whole timing logic runs on a manual clock in tests.
// Single-threaded: everything runs on the owner's event loop.
#pragma once
#include <array>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>

#include "base/Clock.h"
#include "healthcheck/HealthTracker.h"
#include "healthcheck/Probe.h"

namespace healthcheck {

struct CheckTiming {
    base::Duration interval = std::chrono::seconds(60);
    base::Duration retryDelay = std::chrono::seconds(1);
    base::Duration warmup{0};
    int retries = 1;
    int rise = 1;
    int fall = 1;
    bool startDown = false;  // alpha
};

// Upper bounds (seconds) of the attempt latency histogram's buckets; the last bucket is +Inf.
inline constexpr double kLatencyBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
inline constexpr size_t kLatencyBuckets = std::size(kLatencyBounds) + 1;
inline constexpr size_t kFailureKinds = static_cast<size_t>(Failure::Error) + 1;

struct CheckCounters {
    std::uint64_t attempts = 0;  // probe runs, retries included
    std::uint64_t failures = 0;  // failed attempts
    std::uint64_t counted = 0;   // results fed to rise/fall
    std::array<std::uint64_t, kFailureKinds> failuresBy{};      // failed attempts by Failure
    std::array<std::uint64_t, kLatencyBuckets> latencyBucket{};  // attempts per bucket (not cumulative)
    double latencySeconds = 0;                                   // their sum
};

class CheckSession {
public:
    struct Event {
        std::optional<Transition> transition;
        bool weightChanged = false;
        const ProbeResult& result;  // the attempt that caused it
        int streak;                 // the rise/fall streak at the event
    };
    using Listener = std::function<void(CheckSession&, const Event&)>;

    CheckSession(base::TimerFactory& timers, std::unique_ptr<Probe> probe, CheckTiming timing, std::uint32_t seed);
    ~CheckSession();

    void addListener(Listener l) { listeners_.push_back(std::move(l)); }
    // Called as each attempt starts with how late it is against its schedule (timer and loop delay).
    void setLatenessObserver(std::function<void(base::Duration)> f) { latenessObserver_ = std::move(f); }
    // Called on every failed attempt with the retries still to come before it counts (0: it counts).
    void setFailureObserver(std::function<void(const ProbeResult&, int retriesLeft)> f) {
        failureObserver_ = std::move(f);
    }
    void start();
    void stop();
    // ha_suspend: no checks while paused; health is frozen; resume() starts a fresh cycle.
    void pause();
    void resume();
    bool paused() const { return paused_; }

    Health health() const { return tracker_.health(); }
    std::optional<int> dynamicWeight() const { return weight_; }
    const CheckCounters& counters() const { return counters_; }
    const std::optional<ProbeResult>& lastResult() const { return last_; }
    const CheckTiming& timing() const { return timing_; }

private:
    void attempt();
    void onResult(ProbeResult r);
    void scheduleNext(base::Duration after);

    base::TimerFactory& timers_;
    std::unique_ptr<Probe> probe_;
    CheckTiming timing_;
    std::uint64_t rng_;  // splitmix64 state for the warmup draw: 8 bytes (an mt19937 made a session 5 KB)
    std::unique_ptr<base::Timer> timer_;
    HealthTracker tracker_;
    std::vector<Listener> listeners_;
    std::function<void(base::Duration)> latenessObserver_;
    std::function<void(const ProbeResult&, int)> failureObserver_;
    base::TimePoint due_{};
    std::optional<int> weight_;
    std::optional<ProbeResult> last_;
    CheckCounters counters_;
    int retriesLeft_ = 0;
    bool running_ = false, paused_ = false, inFlight_ = false;
};

}  // namespace healthcheck
