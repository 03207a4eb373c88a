#include "kmod/userspace/Forwarder.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "base/Log.h"

namespace kmod::userspace {

Forwarder::Forwarder(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) {
        threads_.push_back(std::make_unique<ForwardingThread>(static_cast<int>(i)));
        threads_.back()->start();
    }
    base::log::info("userspace plane: ", threads, " forwarding threads");
    if (!threads_.front()->direct() && !std::getenv("DIRECTORD_NESTED_POLLER"))
        base::log::warning(
            "userspace plane: Asio's epoll descriptor was not found in /proc/self/fdinfo, so the forwarding"
            " threads wait through Asio's loop: correct, but about 10-20% more CPU per keep-alive request"
            " (is /proc mounted?)");
}

Forwarder::~Forwarder() {
    engine_.reset();  // stops sending before the threads stop queueing
    for (auto& t : threads_) t->stop();
}

std::error_code Forwarder::startSync(const SyncDaemon& d) {
    if (!engine_) {
        engine_ = std::make_unique<SyncEngine>(outbox_, synced_);
        if (snapshot_) engine_->setSnapshot(snapshot_);
    }
    return engine_->start(d);
}

std::error_code Forwarder::stopSync(std::uint32_t state) {
    if (!engine_) return std::error_code(ESRCH, std::generic_category());
    return engine_->stop(state);
}

std::vector<SyncDaemon> Forwarder::syncDaemons() { return engine_ ? engine_->daemons() : std::vector<SyncDaemon>{}; }

std::optional<SyncStatus> Forwarder::syncStatus() {
    if (!engine_) return std::nullopt;
    return engine_->status();
}

void Forwarder::load(const PlaneTable& table) {
    table_ = table;
    auto snap = std::make_shared<Snapshot>();
    std::set<std::uint64_t> live;
    for (const auto& ps : table.services) {
        const ServiceKey& key = ps.service.key;
        auto s = std::make_shared<SnapshotService>();
        s->service = ps.service;
        s->version = ps.version;
        if (ps.service.flags & kSvcPersistent) {
            auto& t = persistence_[key];
            const std::chrono::seconds timeout(ps.service.timeout ? ps.service.timeout : 300);
            if (!t) {
                t = std::make_shared<PersistenceTable>(timeout);
                ++persistenceSets_;
            } else {
                t->setTimeout(timeout);
            }
            s->persistence = t;
        } else {
            persistenceSets_ += persistence_.erase(key);
        }
        if (ps.service.scheduler == "rr" || ps.service.scheduler == "wrr") {
            auto& sh = shared_[key];
            if (!sh || sh->name() != ps.service.scheduler || sh->flags() != ps.service.flags)
                sh = std::make_shared<SharedScheduler>(ps.service.scheduler, ps.service.flags);
            s->shared = sh;
        } else {
            shared_.erase(key);
        }
        for (const auto& d : ps.dests) {
            auto& c = counters_[d.id];
            if (!c) c = std::make_shared<DestCounters>();
            live.insert(d.id);
            s->dests.push_back(SnapshotDest{d.dest, c, d.lastWeight});
        }
        snap->services.emplace(key, std::move(s));
    }
    for (auto it = counters_.begin(); it != counters_.end();)
        it = live.contains(it->first) ? std::next(it) : counters_.erase(it);
    for (auto it = persistence_.begin(); it != persistence_.end();) {
        if (snap->services.contains(it->first)) {
            ++it;
        } else {
            it = persistence_.erase(it);
            ++persistenceSets_;
        }
    }
    for (auto it = shared_.begin(); it != shared_.end();)
        it = snap->services.contains(it->first) ? std::next(it) : shared_.erase(it);
    snap->udpTimeout = table.timeouts.udp;
    snap->tcpTimeout = table.timeouts.tcp;
    snap->tcpFinTimeout = table.timeouts.tcpFin;
    snap->sync = outbox_;
    snap->synced = synced_;
    budget_->configure(table.limits);
    snap->budget = budget_;
    std::shared_ptr<const Snapshot> frozen = std::move(snap);
    snapshot_ = frozen;
    if (engine_) engine_->setSnapshot(frozen);
    for (auto& t : threads_) t->publish(frozen);
}

// A service's totals and rates are the sums of its destinations' (the estimator is linear).
TableStatus Forwarder::status() const {
    TableStatus st;
    for (const auto& ps : table_.services) {
        ServiceStatus& s = st[ps.service.key];
        for (const auto& d : ps.dests) {
            auto it = counters_.find(d.id);
            if (it == counters_.end()) continue;
            DestCounters& c = *it->second;
            DestStatus& ds = s.dests[d.dest.key];
            ds.activeConns = c.active.load(std::memory_order_relaxed);
            ds.inactConns = c.inactive.load(std::memory_order_relaxed);
            ds.persistConns = c.persistent.load(std::memory_order_relaxed);
            ds.stats = c.totals();
            ds.rates = c.rates();
            s.stats += ds.stats;
            s.rates += ds.rates;
        }
    }
    return st;
}

void Forwarder::zero(const std::optional<ServiceKey>& only) {
    for (const auto& ps : table_.services)
        if (!only || ps.service.key == *only)
            for (const auto& d : ps.dests)
                if (auto it = counters_.find(d.id); it != counters_.end()) it->second->zero();
}

std::vector<ConnEntry> Forwarder::connections() {
    std::vector<ConnEntry> out;
    for (auto& t : threads_) {
        auto part = t->connections();
        out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    // persistence templates: as the kernel lists them, client port 0, state NONE or ASSURED
    const auto now = PersistenceTable::Clock::now();
    synced_->list(out, now);
    for (const auto& entry : persistence_) {
        const auto& key = entry.first;
        entry.second->forEach(now,
                       [&](const base::IpAddress& net, const DestKey& dest, std::uint32_t left, std::uint16_t state) {
                           ConnEntry c;
                           c.protocol = protocolName(key.protocol);
                           c.client = net;
                           c.vaddr = key.address;
                           c.vport = key.port;
                           c.daddr = dest.address;
                           c.dport = dest.port;
                           c.state = state == PersistenceTable::kAssured ? "ASSURED" : "NONE";
                           c.expires = left;
                           out.push_back(std::move(c));
                       });
    }
    return out;
}

std::vector<KeptTemplate> Forwarder::templates() const {
    std::vector<KeptTemplate> out;
    const auto now = PersistenceTable::Clock::now();
    for (const auto& entry : persistence_) {  // not a structured binding: clang 14 cannot capture one
        const auto& key = entry.first;
        entry.second->forEach(now, [&](const base::IpAddress& net, const DestKey& dest, std::uint32_t,
                                       std::uint16_t state) { out.push_back(KeptTemplate{key, net, dest, state}); });
    }
    return out;
}

std::pair<std::uint64_t, std::uint64_t> Forwarder::templateChanges() const {
    std::uint64_t n = 0;  // grows while the set of tables stays (a table's own count only grows)
    for (const auto& [key, table] : persistence_) n += table->bindingChanges();
    return {persistenceSets_, n};
}

size_t Forwarder::restoreTemplates(const std::vector<KeptTemplate>& kept) {
    // each real server's counters by service and address, looked up once (not per template)
    std::map<std::pair<ServiceKey, DestKey>, std::shared_ptr<DestCounters>> byKey;
    for (const auto& ps : table_.services)
        for (const auto& d : ps.dests)
            if (auto c = counters_.find(d.id); c != counters_.end()) byKey[{ps.service.key, d.dest.key}] = c->second;
    const auto now = PersistenceTable::Clock::now();
    size_t installed = 0;
    for (const auto& k : kept) {
        auto it = persistence_.find(k.service);
        auto counters = byKey.find({k.service, k.dest});
        if (it == persistence_.end() || counters == byKey.end()) continue;
        const auto r = it->second->install(k.clientNet, k.dest, k.state, now + it->second->timeout());
        if (r.newTemplate) counters->second->persistent.fetch_add(1, std::memory_order_relaxed);
        ++installed;
    }
    return installed;
}

std::shared_ptr<const DestCounters> Forwarder::counters(const ServiceKey& svc, const DestKey& dest) const {
    for (const auto& ps : table_.services)
        if (ps.service.key == svc)
            for (const auto& d : ps.dests)
                if (d.dest.key == dest)
                    if (auto it = counters_.find(d.id); it != counters_.end()) return it->second;
    return nullptr;
}

}  // namespace kmod::userspace
