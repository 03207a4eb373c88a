#include "kmod/userspace/PersistenceTable.h"

namespace kmod {

std::optional<DestKey> PersistenceTable::use(const base::IpAddress& clientNet, Clock::time_point now,
                                             Clock::duration resendAfter, bool* resend) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end()) return std::nullopt;
    Template& t = it->second;
    if (t.connections == 0 && t.expires <= now) return std::nullopt;  // expired: the sweep drops it
    ++t.connections;
    t.expires = now + timeout_;
    if (resend && now - t.sent >= resendAfter) {
        t.sent = now;
        *resend = true;
    }
    return t.dest;
}

PersistenceTable::BindResult PersistenceTable::rebind(Template& t, bool fresh, const DestKey& dest) {
    BindResult r;
    if (fresh) r.newTemplate = true;
    else if (!(t.dest == dest)) {
        r.newTemplate = true;
        r.replaced = t.dest;
    }
    t.dest = dest;
    return r;
}

PersistenceTable::BindResult PersistenceTable::bind(const base::IpAddress& clientNet, const DestKey& dest,
                                                    Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = templates_.try_emplace(clientNet);
    Template& t = it->second;
    const BindResult r = rebind(t, fresh, dest);
    ++t.connections;
    t.expires = now + timeout_;
    t.sent = now;  // the caller sends it
    return r;
}

bool PersistenceTable::release(const base::IpAddress& clientNet, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end()) return false;
    Template& t = it->second;
    if (t.connections > 0) --t.connections;
    t.expires = std::max(t.expires, now + timeout_);
    if (t.connections > 0) return false;
    t.sent = now;
    return true;
}

PersistenceTable::BindResult PersistenceTable::install(const base::IpAddress& clientNet, const DestKey& dest,
                                                       Clock::time_point expires) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = templates_.try_emplace(clientNet);
    Template& t = it->second;
    const BindResult r = rebind(t, fresh, dest);
    t.expires = t.connections > 0 ? std::max(t.expires, expires) : expires;
    return r;
}

}  // namespace kmod
