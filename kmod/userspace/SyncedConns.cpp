#include "kmod/userspace/SyncedConns.h"

namespace kmod::userspace {
namespace {

std::string protoName(std::uint8_t p) {
    switch (p) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 132: return "SCTP";
    default: return "IP_" + std::to_string(p);
    }
}

const char* sctpStateName(std::uint16_t s) {
    static const char* const names[] = {"NONE",       "INIT1",      "INIT",     "C-SENT",      "C-REPLIED",
                                        "C-WAIT",     "COOKIE",     "C-ECHOED", "ESTABLISHED", "S-SENT",
                                        "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED"};
    return s < sync::kSctpStates ? names[s] : "BUG!";
}

}  // namespace

void SyncedConns::count(Entry& e) {
    if (!e.counters) return;
    e.inactive = (e.flags & sync::kInactive) != 0;
    (e.inactive ? e.counters->inactive : e.counters->active).fetch_add(1, std::memory_order_relaxed);
}

void SyncedConns::uncount(Entry& e) {
    if (!e.counters) return;
    (e.inactive ? e.counters->inactive : e.counters->active).fetch_sub(1, std::memory_order_relaxed);
}

void SyncedConns::erase(std::map<Key, Entry>::iterator& it) {
    uncount(it->second);
    budget_->give(SyncBudget::kConnection, it->second.source);
    it = entries_.erase(it);
}

SyncedConns::Applied SyncedConns::apply(const sync::SyncConn& c, std::shared_ptr<DestCounters> counters,
                                        Clock::time_point now, const base::IpAddress& source,
                                        std::uint32_t timeoutSeconds) {
    std::lock_guard lock(mutex_);
    const Key key{c.protocol, c.caddr, c.cport, c.vaddr, c.vport, c.fwmark};
    auto it = entries_.find(key);
    const bool fresh = it == entries_.end();
    if (fresh) {
        switch (budget_->take(SyncBudget::kConnection, source)) {
        case SyncBudget::Refusal::Total: return Applied::RefusedTotal;
        case SyncBudget::Refusal::PerSource: return Applied::RefusedPerSource;
        case SyncBudget::Refusal::None: break;
        }
        it = entries_.try_emplace(key).first;
        it->second.source = source;
    }
    Entry& e = it->second;
    Applied what = fresh ? Applied::Created : Applied::Updated;
    if (!fresh && (e.daddr != c.daddr || e.dport != c.dport)) {
        if (c.flags & sync::kInactive) return Applied::Stale;  // the replaced connection's expiry
        what = Applied::Replaced;
    }
    if (!fresh) uncount(e);
    if (fresh || what == Applied::Replaced) {
        e.daddr = c.daddr;
        e.dport = c.dport;
        e.counters = std::move(counters);
    }
    e.state = c.state;
    e.flags = c.flags;
    // timeout 0: the protocol's own (the kernel takes its table; UDP 300, TCP by state)
    const std::uint32_t timeout =
        timeoutSeconds ? timeoutSeconds : c.timeout ? c.timeout : (c.protocol == 17 ? 300 : 900);
    e.expires = now + std::chrono::seconds(timeout);
    count(e);
    return what;
}

std::optional<DestKey> SyncedConns::takeUdp(const ServiceKey& svc, const base::IpAddress& client, std::uint16_t port) {
    std::lock_guard lock(mutex_);
    if (entries_.empty()) return std::nullopt;
    auto it = entries_.find(Key{17, client, port, svc.address, svc.port, 0});
    if (it == entries_.end()) return std::nullopt;
    DestKey d{it->second.daddr, it->second.dport};
    erase(it);
    return d;
}

void SyncedConns::sweep(Clock::time_point now) {
    {
        std::lock_guard lock(mutex_);
        cursor_.reset();
    }
    while (!sweepStep(now)) {
    }
}

bool SyncedConns::sweepStep(Clock::time_point now, size_t chunk) {
    std::lock_guard lock(mutex_);
    auto it = cursor_ ? entries_.lower_bound(*cursor_) : entries_.begin();
    for (size_t n = 0; n < chunk && it != entries_.end(); ++n) {
        if (it->second.expires <= now) erase(it);
        else ++it;
    }
    if (it == entries_.end()) {
        cursor_.reset();
        return true;
    }
    cursor_ = it->first;
    return false;
}

size_t SyncedConns::dropStreams() {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->first.protocol == 6 || it->first.protocol == 132) {
            erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

void SyncedConns::clear() {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) erase(it);
    cursor_.reset();
}

void SyncedConns::list(std::vector<ConnEntry>& out, Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    for (const auto& [k, e] : entries_) {
        ConnEntry c;
        c.protocol = protoName(k.protocol);
        c.client = k.caddr;
        c.clientPort = k.cport;
        c.vaddr = k.vaddr;
        c.vport = k.vport;
        c.daddr = e.daddr;
        c.dport = e.dport;
        c.state = k.protocol == 6 ? sync::tcpStateName(e.state) : k.protocol == 132 ? sctpStateName(e.state) : "UDP";
        c.expires =
            e.expires > now
                ? static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(e.expires - now).count())
                : 0;
        out.push_back(std::move(c));
    }
}

}  // namespace kmod::userspace
