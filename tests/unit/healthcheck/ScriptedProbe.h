// A Probe test double: answers from a script of results, each after its latency on a manual clock.
#pragma once
#include <deque>

#include "base/Clock.h"
#include "healthcheck/Probe.h"

namespace testutil {

class ScriptedProbe : public healthcheck::Probe {
public:
    explicit ScriptedProbe(base::TimerFactory& t) : timer_(t.makeTimer()) {}
    // Results handed out in order; when empty, `fallback` repeats.
    std::deque<healthcheck::ProbeResult> script;
    healthcheck::ProbeResult fallback = healthcheck::ProbeResult::success();
    base::Duration latency = std::chrono::milliseconds(10);
    std::vector<base::TimePoint>* runs = nullptr;  // when each attempt started
    base::TimerFactory* clock = nullptr;

    void run(Done done) override {
        if (runs && clock) runs->push_back(clock->now());
        healthcheck::ProbeResult r = fallback;
        if (!script.empty()) {
            r = script.front();
            script.pop_front();
        }
        timer_->schedule(latency, [done = std::move(done), r] { done(r); });
    }
    void cancel() override { timer_->cancel(); }

private:
    std::unique_ptr<base::Timer> timer_;
};

}  // namespace testutil
