// rr and wrr (ip_vs_rr.c, ip_vs_wrr.c).
#include <numeric>

#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

// The kernel keeps its place in the list across changes; when the last pick is deleted it moves to
// the one before it (ip_vs_rr_del_dest).
void RoundRobin::update(const std::vector<SchedDest>& dests) {
    if (!lastKey_) return;
    for (size_t i = 0; i < dests.size(); ++i)
        if (dests[i].address == lastKey_->first && dests[i].port == lastKey_->second) {
            last_ = static_cast<long>(i);
            return;
        }
    last_ = std::min<long>(last_ - 1, static_cast<long>(dests.size()) - 1);
    lastKey_.reset();
}

// Starts after the last pick and takes the first available destination.
std::optional<size_t> RoundRobin::pick(const std::vector<SchedDest>& dests, const SchedPacket&) {
    const long n = static_cast<long>(dests.size());
    for (long step = 1; step <= n; ++step) {
        const long i = (last_ + step + n) % n;
        if (dests[static_cast<size_t>(i)].available()) {
            last_ = i;
            lastKey_ = {dests[static_cast<size_t>(i)].address, dests[static_cast<size_t>(i)].port};
            return static_cast<size_t>(i);
        }
    }
    return std::nullopt;
}

// The kernel's init/dest_changed: gcd of the positive weights (1 when none), max weight less
// (gcd - 1), and the current weight kept unless it is now out of range.
void WeightedRoundRobin::update(const std::vector<SchedDest>& dests) {
    int g = 0, maxw = 0;
    for (const auto& d : dests) {
        if (d.weight > 0) g = g ? std::gcd(g, d.weight) : d.weight;
        maxw = std::max(maxw, d.weight);
    }
    di_ = g ? g : 1;
    mw_ = maxw - (di_ - 1);
    cl_ = -1;
    if (cw_ > mw_ || cw_ == 0) cw_ = mw_;
    else if (di_ > 1) cw_ = (cw_ / di_) * di_ + 1;
}

// Interleaved: walk the list from the last pick; at the end of the list lower the current weight
// by the gcd (back to the max below 1); take the first destination whose weight reaches it.
std::optional<size_t> WeightedRoundRobin::pick(const std::vector<SchedDest>& dests, const SchedPacket&) {
    if (mw_ <= 0 || dests.empty()) return std::nullopt;
    const long n = static_cast<long>(dests.size());
    // Enough steps to try every destination at every weight level once more.
    const long maxSteps = (n + 1) * (static_cast<long>(mw_ / di_) + 2);
    long i = cl_;
    for (long step = 0; step < maxSteps; ++step) {
        ++i;
        if (i >= n) {  // the list head
            i = -1;
            cw_ -= di_;
            if (cw_ <= 0) cw_ = mw_;
            continue;
        }
        const SchedDest& d = dests[static_cast<size_t>(i)];
        if (!d.overloaded && d.weight >= cw_ && d.weight > 0) {
            cl_ = i;
            return static_cast<size_t>(i);
        }
    }
    return std::nullopt;
}

}  // namespace kmod::sched
