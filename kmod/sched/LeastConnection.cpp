// lc, wlc, sed, nq (ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c).
#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

std::optional<size_t> LeastConnection::pick(const std::vector<SchedDest>& dests, const SchedPacket&) {
    auto overhead = [&](const SchedDest& d) -> std::int64_t {
        switch (kind_) {
        case Kind::Lc:
        case Kind::Wlc: return static_cast<std::int64_t>(connOverhead(d));
        case Kind::Sed:
        case Kind::Nq: return static_cast<std::int64_t>(d.activeConns) + 1;
        }
        return 0;
    };
    std::optional<size_t> least;
    std::int64_t loh = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
        const SchedDest& d = dests[i];
        if (!d.available()) continue;
        // nq: an idle server takes the connection at once.
        if (kind_ == Kind::Nq && d.activeConns == 0) return i;
        const std::int64_t doh = overhead(d);
        if (!least) {
            least = i;
            loh = doh;
            continue;
        }
        bool better;
        if (kind_ == Kind::Lc) better = doh < loh;
        else better = loh * dests[i].weight > doh * dests[*least].weight;
        if (better) {
            least = i;
            loh = doh;
        }
    }
    return least;
}

}  // namespace kmod::sched
