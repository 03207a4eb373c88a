// Clock and timers as a seam (docs/ARCHITECTURE.md, seams): components that schedule work (check sessions, VRRP
// timers) take a TimerFactory. In production it wraps Asio steady timers; in tests a ManualClock
// whose advance(d) fires due timers in deadline order, so timing logic is tested without sleeping.
// Single-threaded: a factory and its timers belong to one event loop.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "base/Asio.h"
#include "base/Duration.h"

namespace base {

class Timer {
public:
    virtual ~Timer() = default;
    // Replaces any pending callback; `fn` runs from the event loop, never from inside schedule().
    virtual void schedule(Duration after, std::function<void()> fn) = 0;
    virtual void cancel() = 0;
    virtual bool pending() const = 0;
};

class TimerFactory {
public:
    virtual ~TimerFactory() = default;
    virtual std::unique_ptr<Timer> makeTimer() = 0;
    virtual TimePoint now() const = 0;
};

class AsioTimerFactory : public TimerFactory {
public:
    explicit AsioTimerFactory(asio::io_context& io) : io_(io) {}
    std::unique_ptr<Timer> makeTimer() override;
    TimePoint now() const override { return Clock::now(); }

private:
    asio::io_context& io_;
};

// Many timers on one Asio timer: deadlines are rounded up to a grain (2 ms by default), kept in one
// heap, and the Asio timer is armed for the earliest grain only, so thousands of check sessions
// firing every second cost one wake-up and timerfd re-arm per grain that has work, not one per
// check, and no allocation when a timer is rescheduled. Cancelling is lazy (the heap entry is
// skipped when it comes due). Timers may outlive the factory (they then never fire). For the lvs
// worker's checks, where two milliseconds of lateness are noise (bench:checker measured 1 ms against
// 2 ms: a third of the checker's cost above the kernel's goes with the wake-ups); VRRP keeps
// AsioTimerFactory.
class CoalescedTimerFactory : public TimerFactory {
public:
    static constexpr Duration kDefaultGrain = std::chrono::milliseconds(2);
    explicit CoalescedTimerFactory(asio::io_context& io, Duration grain = kDefaultGrain);
    ~CoalescedTimerFactory() override;
    std::unique_ptr<Timer> makeTimer() override;
    TimePoint now() const override { return Clock::now(); }
    struct State;

private:
    std::shared_ptr<State> state_;
};

class ManualClock : public TimerFactory {
public:
    std::unique_ptr<Timer> makeTimer() override;
    TimePoint now() const override { return now_; }
    // Moves time forward by `d`, firing every timer that falls due, in deadline order (ties in
    // scheduling order); callbacks may schedule more timers, which fire too if due.
    void advance(Duration d);
    size_t pendingTimers() const { return queue_.size(); }

private:
    friend class ManualTimer;
    struct Entry {
        std::function<void()> fn;
        void* owner;
    };
    using Key = std::pair<TimePoint, std::uint64_t>;
    Key add(Duration after, std::function<void()> fn, void* owner);
    void remove(const Key& k) { queue_.erase(k); }
    TimePoint now_{};
    std::uint64_t seq_ = 0;
    std::map<Key, Entry> queue_;
};

}  // namespace base
