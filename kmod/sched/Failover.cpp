// fo, ovf (ip_vs_fo.c, ip_vs_ovf.c) and twos (ip_vs_twos.c).
#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

// fo: the available destination with the highest weight (the first of equals).
// ovf: the same among those with no more active connections than their weight.
std::optional<size_t> Failover::pick(const std::vector<SchedDest>& dests, const SchedPacket&) {
    std::optional<size_t> best;
    for (size_t i = 0; i < dests.size(); ++i) {
        const SchedDest& d = dests[i];
        if (!d.available()) continue;
        if (overflow_ && d.activeConns > static_cast<std::uint32_t>(d.weight)) continue;
        if (!best || d.weight > dests[*best].weight) best = i;
    }
    return best;
}

// Two destinations drawn at random in proportion to their weights; the one with the lower
// overhead per weight wins.
std::optional<size_t> TwoChoices::pick(const std::vector<SchedDest>& dests, const SchedPacket&) {
    long total = 0;
    for (const auto& d : dests)
        if (d.available()) total += d.weight;
    if (total == 0) return std::nullopt;
    auto draw = [&]() -> size_t {
        long r = std::uniform_int_distribution<long>(0, total - 1)(rng_);
        for (size_t i = 0; i < dests.size(); ++i) {
            if (!dests[i].available()) continue;
            r -= dests[i].weight;
            if (r < 0) return i;
        }
        return dests.size() - 1;
    };
    const size_t a = draw(), b = draw();
    const auto oa = static_cast<std::int64_t>(connOverhead(dests[a])),
               ob = static_cast<std::int64_t>(connOverhead(dests[b]));
    return ob * dests[a].weight < oa * dests[b].weight ? b : a;
}

}  // namespace kmod::sched
