#include "director/lvs/Quorum.h"

namespace director::lvs {

std::vector<Quorum::Change> Quorum::update(const conf::Config& cfg, const HealthView& health,
                                           const std::set<RsId>& disabled, const std::set<kmod::ServiceKey>* only) {
    std::map<kmod::ServiceKey, QuorumTracker> next;
    if (only) {
        next = trackers_;
        for (const auto& k : *only) next.erase(k);  // gone ones lose their tracker; kept ones are redone
    }
    std::vector<Change> changes;
    for (const auto& vs : cfg.virtualServers) {
        const auto key = serviceKey(vs);
        if (only && !only->contains(key)) continue;
        auto old = trackers_.find(key);
        QuorumTracker tracker = old != trackers_.end() ? old->second : QuorumTracker{};
        const long live = liveWeight(vs, health, disabled);
        if (auto change = tracker.update(live, vs.quorum, vs.hysteresis))
            changes.push_back({&vs, key, *change, live});
        next.insert_or_assign(key, tracker);
    }
    trackers_ = std::move(next);
    return changes;
}

bool Quorum::up(const kmod::ServiceKey& key) const {
    auto it = trackers_.find(key);
    return it == trackers_.end() || it->second.up();
}

std::set<kmod::ServiceKey> Quorum::lost(const std::set<kmod::ServiceKey>* only) const {
    std::set<kmod::ServiceKey> out;
    for (const auto& [k, t] : trackers_)
        if (!t.up() && (!only || only->contains(k))) out.insert(k);
    return out;
}

std::map<kmod::ServiceKey, bool> Quorum::states() const {
    std::map<kmod::ServiceKey, bool> out;
    for (const auto& [k, t] : trackers_) out[k] = t.up();
    return out;
}

}  // namespace director::lvs
