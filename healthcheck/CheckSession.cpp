#include "healthcheck/CheckSession.h"

namespace healthcheck {

namespace {
// Well mixed even for consecutive seeds (sessions are seeded 1, 2, 3...), so warmups spread evenly.
std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
}  // namespace

CheckSession::CheckSession(base::TimerFactory& timers, std::unique_ptr<Probe> probe, CheckTiming timing,
                           std::uint32_t seed)
    : timers_(timers), probe_(std::move(probe)), timing_(timing), rng_(seed), timer_(timers.makeTimer()),
      tracker_(timing.rise, timing.fall, timing.startDown) {}

CheckSession::~CheckSession() { stop(); }

void CheckSession::start() {
    if (running_) return;
    running_ = true;
    retriesLeft_ = timing_.retries;
    base::Duration first{0};
    if (timing_.warmup.count() > 0)
        first = base::Duration(static_cast<base::Duration::rep>(splitmix64(rng_) %
                                                                static_cast<std::uint64_t>(timing_.warmup.count() + 1)));
    if (!paused_) scheduleNext(first);
}

void CheckSession::stop() {
    running_ = false;
    timer_->cancel();
    if (inFlight_) probe_->cancel();
    inFlight_ = false;
}

void CheckSession::pause() {
    if (paused_) return;
    paused_ = true;
    timer_->cancel();
    if (inFlight_) probe_->cancel();
    inFlight_ = false;
}

void CheckSession::resume() {
    if (!paused_) return;
    paused_ = false;
    retriesLeft_ = timing_.retries;
    if (running_) scheduleNext(base::Duration{0});
}

void CheckSession::scheduleNext(base::Duration after) {
    due_ = timers_.now() + after;
    timer_->schedule(after, [this] { attempt(); });
}

void CheckSession::attempt() {
    if (!running_ || paused_) return;
    inFlight_ = true;
    ++counters_.attempts;
    if (latenessObserver_) latenessObserver_(timers_.now() - due_);
    probe_->run([this](ProbeResult r) {
        inFlight_ = false;
        onResult(std::move(r));
    });
}

void CheckSession::onResult(ProbeResult r) {
    const double seconds = std::chrono::duration<double>(r.latency).count();
    size_t bucket = 0;
    while (bucket < std::size(kLatencyBounds) && seconds > kLatencyBounds[bucket]) ++bucket;
    ++counters_.latencyBucket[bucket];
    counters_.latencySeconds += seconds;
    if (!r.ok()) {
        ++counters_.failures;
        ++counters_.failuresBy[static_cast<size_t>(r.failure)];
        if (failureObserver_) failureObserver_(r, retriesLeft_);
        if (retriesLeft_ > 0) {
            --retriesLeft_;
            last_ = std::move(r);
            scheduleNext(timing_.retryDelay);
            return;
        }
    }
    retriesLeft_ = timing_.retries;
    ++counters_.counted;
    last_ = r;
    const auto transition = tracker_.record(r.ok());
    bool weightChanged = false;
    if (r.ok() && r.weight != weight_) {
        weightChanged = true;
        weight_ = r.weight;
    }
    if (transition || weightChanged) {
        const Event e{transition, weightChanged, *last_, transition ? transition->streak : tracker_.streak()};
        for (auto& l : listeners_) l(*this, e);
    }
    if (running_ && !paused_) scheduleNext(timing_.interval);
}

}  // namespace healthcheck
