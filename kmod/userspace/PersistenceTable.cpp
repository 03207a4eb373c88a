#include "kmod/userspace/PersistenceTable.h"

namespace kmod {

std::optional<DestKey> PersistenceTable::use(const base::IpAddress& clientNet, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end()) return std::nullopt;
    Template& t = it->second;
    if (t.connections == 0 && t.expires <= now) return std::nullopt;  // expired: the sweep drops it
    ++t.connections;
    t.expires = now + timeout_;
    return t.dest;
}

PersistenceTable::BindResult PersistenceTable::bind(const base::IpAddress& clientNet, const DestKey& dest,
                                                    Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = templates_.try_emplace(clientNet);
    Template& t = it->second;
    BindResult r;
    if (fresh) r.newTemplate = true;
    else if (!(t.dest == dest)) {
        r.newTemplate = true;
        r.replaced = t.dest;
    }
    t.dest = dest;
    ++t.connections;
    t.expires = now + timeout_;
    return r;
}

void PersistenceTable::release(const base::IpAddress& clientNet, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end()) return;
    if (it->second.connections > 0) --it->second.connections;
    it->second.expires = std::max(it->second.expires, now + timeout_);
}

}  // namespace kmod
