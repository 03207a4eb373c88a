// lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c). A destination address keeps its real server (lblc)
// or its set of real servers (lblcr) until that server is "overloaded" in the kernel's sense: more
// active connections than its weight while another server has fewer than half its weight.
#include "kmod/Model.h"
#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

void Locality::update(const std::vector<SchedDest>& dests) {
    index_.clear();
    for (size_t i = 0; i < dests.size(); ++i) index_.emplace(DestId{dests[i].address, dests[i].port}, i);
    // A server that left the service leaves every set (the kernel keeps it in the trash, unavailable,
    // until the entry expires; it is never picked either way).
    for (auto it = cache_.begin(); it != cache_.end();) {
        auto& set = it->second.set;
        std::erase_if(set, [&](const DestId& id) { return !index_.contains(id); });
        it = set.empty() ? cache_.erase(it) : std::next(it);
    }
}

std::optional<size_t> Locality::indexOf(const DestId& id) const {
    auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

// __ip_vs_lblc(r)_schedule: weighted least connection, skipping overloaded and quiesced servers.
std::optional<size_t> Locality::leastLoaded(const std::vector<SchedDest>& dests) const {
    std::optional<size_t> least;
    for (size_t i = 0; i < dests.size(); ++i) {
        const SchedDest& d = dests[i];
        if (d.overloaded) continue;
        if (!least) {
            if (d.weight > 0) least = i;
            continue;
        }
        const SchedDest& l = dests[*least];
        if (static_cast<std::int64_t>(connOverhead(l)) * d.weight >
            static_cast<std::int64_t>(connOverhead(d)) * l.weight)
            least = i;
    }
    return least;
}

bool Locality::overloaded(const std::vector<SchedDest>& dests, size_t i) const {
    if (static_cast<std::int64_t>(dests[i].activeConns) <= dests[i].weight) return false;
    for (const auto& d : dests)
        if (static_cast<std::int64_t>(d.activeConns) * 2 < d.weight) return true;
    return false;
}

// ip_vs_lblc(r)_check_expire, run from pick() at most once a minute.
void Locality::expire(Clock::time_point now) {
    if (now < nextCheck_) return;
    nextCheck_ = now + kCheckInterval;
    if (counter_ % 30 == 0) {
        std::erase_if(cache_, [&](const auto& kv) { return now >= kv.second.lastUse + kExpiration; });
        counter_ = 1;
        return;
    }
    if (cache_.size() <= kMaxSize) {
        ++counter_;
        return;
    }
    long goal = std::min<long>(static_cast<long>((cache_.size() - kMaxSize) * 4 / 3), static_cast<long>(kMaxSize / 2));
    for (auto it = cache_.begin(); it != cache_.end() && goal > 0;) {
        if (now >= it->second.lastUse + kEntryTimeout) {
            it = cache_.erase(it);
            --goal;
        } else {
            ++it;
        }
    }
}

std::optional<size_t> Locality::pick(const std::vector<SchedDest>& dests, const SchedPacket& p) {
    const auto now = now_();
    expire(now);
    auto it = cache_.find(p.destination);
    if (kind_ == Kind::Lblc) {
        if (it != cache_.end()) {
            it->second.lastUse = now;
            const auto i = indexOf(it->second.set.front());
            if (i && dests[*i].weight > 0 && !overloaded(dests, *i)) return i;
        }
        const auto least = leastLoaded(dests);
        if (!least) return std::nullopt;
        const DestId id{dests[*least].address, dests[*least].port};
        if (it == cache_.end()) cache_.emplace(p.destination, Entry{{id}, now, now});
        else if (it->second.set.front() != id) it->second = Entry{{id}, now, now};
        return least;
    }

    if (it == cache_.end()) {
        const auto least = leastLoaded(dests);
        if (!least) return std::nullopt;
        cache_.emplace(p.destination, Entry{{DestId{dests[*least].address, dests[*least].port}}, now, now});
        return least;
    }
    Entry& e = it->second;
    e.lastUse = now;
    // ip_vs_dest_set_min: the weighted least loaded member that can take a connection
    std::optional<size_t> min;
    for (const auto& id : e.set) {
        const auto i = indexOf(id);
        if (!i || dests[*i].overloaded) continue;
        if (!min) {
            if (dests[*i].weight > 0) min = i;
            continue;
        }
        if (static_cast<std::int64_t>(connOverhead(dests[*min])) * dests[*i].weight >
            static_cast<std::int64_t>(connOverhead(dests[*i])) * dests[*min].weight)
            min = i;
    }
    // a set that has not changed for the expiration time loses its most loaded member
    if (e.set.size() > 1 && now > e.lastMod + kExpiration) {
        std::optional<size_t> most;
        for (size_t k = 0; k < e.set.size(); ++k) {
            const auto i = indexOf(e.set[k]);
            if (!i || dests[*i].weight <= 0) continue;
            if (!most || static_cast<std::int64_t>(connOverhead(dests[*indexOf(e.set[*most])])) * dests[*i].weight <
                             static_cast<std::int64_t>(connOverhead(dests[*i])) * dests[*indexOf(e.set[*most])].weight)
                most = k;
        }
        if (most) {
            e.set.erase(e.set.begin() + static_cast<long>(*most));
            e.lastMod = now;
        }
    }
    if (min && !overloaded(dests, *min)) return min;
    const auto least = leastLoaded(dests);
    if (!least) return std::nullopt;
    const DestId id{dests[*least].address, dests[*least].port};
    if (std::find(e.set.begin(), e.set.end(), id) == e.set.end()) {
        e.set.insert(e.set.begin(), id);
        e.lastMod = now;
    }
    return least;
}

}  // namespace kmod::sched
