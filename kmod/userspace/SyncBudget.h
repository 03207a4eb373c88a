// SyncBudget: what a backup's synced state may take, so that a host on the sync link cannot grow
// it without bound (SyncLimits: connections and templates in all, and from one sender). The sync
// engine takes a unit before it installs a new entry and the tables give it back when the entry
// goes (expired, handed over, dropped, or its table replaced). Thread-safe: the sync thread takes,
// the forwarding threads give back (a UDP flow handed over, a template swept).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>

#include "base/IpAddress.h"
#include "kmod/IpvsTable.h"

namespace kmod::userspace {

class SyncBudget {
public:
    enum Kind { kConnection = 0, kTemplate = 1 };
    enum class Refusal { None, Total, PerSource };

    void setLimits(const SyncLimits& l) {
        std::lock_guard lock(mutex_);
        limits_ = l;
    }
    // Counts one more entry of `kind` from `source`, or says which cap it would pass.
    Refusal take(Kind kind, const base::IpAddress& source) {
        std::lock_guard lock(mutex_);
        const std::uint32_t total = kind == kConnection ? limits_.maxConnections : limits_.maxTemplates;
        if (totals_[kind] >= total) return Refusal::Total;
        auto& mine = bySource_[source];
        if (mine[kind] >= limits_.maxPerSource) {
            if (mine[0] == 0 && mine[1] == 0) bySource_.erase(source);
            return Refusal::PerSource;
        }
        ++mine[kind];
        ++totals_[kind];
        return Refusal::None;
    }
    void give(Kind kind, const base::IpAddress& source) {
        std::lock_guard lock(mutex_);
        auto it = bySource_.find(source);
        if (it == bySource_.end() || it->second[kind] == 0) return;
        --it->second[kind];
        --totals_[kind];
        if (it->second[0] == 0 && it->second[1] == 0) bySource_.erase(it);
    }
    std::uint32_t held(Kind kind) const {
        std::lock_guard lock(mutex_);
        return totals_[kind];
    }
    size_t sources() const {
        std::lock_guard lock(mutex_);
        return bySource_.size();
    }

private:
    mutable std::mutex mutex_;
    SyncLimits limits_;
    std::array<std::uint32_t, 2> totals_{};
    std::map<base::IpAddress, std::array<std::uint32_t, 2>> bySource_;
};

}  // namespace kmod::userspace
