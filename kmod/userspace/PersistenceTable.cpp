#include "kmod/userspace/PersistenceTable.h"

namespace kmod::userspace {

std::optional<DestKey> PersistenceTable::use(const base::IpAddress& clientNet, Clock::time_point now,
                                             Clock::duration resendAfter, bool* resend, std::uint16_t* state) {
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
    if (state) *state = t.state;
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
    if (r.newTemplate) bindingChanges_.fetch_add(1, std::memory_order_relaxed);
    return r;
}

PersistenceTable::BindResult PersistenceTable::bind(const base::IpAddress& clientNet, const DestKey& dest,
                                                    Clock::time_point now, const std::optional<DestKey>& leaving) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = templates_.try_emplace(clientNet);
    Template& t = it->second;
    const bool live = !fresh && (t.connections > 0 || t.expires > now);
    if (live && !(t.dest == dest) && !(leaving && t.dest == *leaving)) {
        ++t.connections;
        t.expires = now + timeout_;
        BindResult r;
        r.kept = t.dest;
        return r;
    }
    const BindResult r = rebind(t, fresh, dest);
    if (r.newTemplate) t.state = kNone;  // a new template (the kernel makes a new one)
    ++t.connections;
    t.expires = now + timeout_;
    t.sent = now;  // the caller sends it
    return r;
}

std::optional<std::uint16_t> PersistenceTable::release(const base::IpAddress& clientNet, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end()) return std::nullopt;
    Template& t = it->second;
    if (t.connections > 0) --t.connections;
    t.expires = std::max(t.expires, now + timeout_);
    if (t.connections > 0) return std::nullopt;
    t.sent = now;
    return t.state;
}

bool PersistenceTable::assure(const base::IpAddress& clientNet) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    if (it == templates_.end() || it->second.state == kAssured) return false;
    it->second.state = kAssured;
    return true;
}

PersistenceTable::~PersistenceTable() {
    for (const auto& [net, t] : templates_) giveBack(t);
}

PersistenceTable::BindResult PersistenceTable::install(const base::IpAddress& clientNet, const DestKey& dest,
                                                       std::uint16_t state, Clock::time_point expires,
                                                       const SyncedFrom* from) {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(clientNet);
    const bool fresh = it == templates_.end();
    if (fresh && from && from->budget) {
        BindResult refused;
        refused.refused = from->budget->take(SyncBudget::kTemplate, from->source);
        if (refused.refused != SyncBudget::Refusal::None) return refused;
    }
    if (fresh) {
        it = templates_.try_emplace(clientNet).first;
        if (from && from->budget) {
            budget_ = from->budget;
            it->second.syncedFrom = from->source;
        }
    }
    Template& t = it->second;
    const BindResult r = rebind(t, fresh, dest);
    t.state = state;
    t.expires = t.connections > 0 ? std::max(t.expires, expires) : expires;
    return r;
}

}  // namespace kmod::userspace
