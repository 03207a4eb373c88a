#include "kmod/userspace/UserspaceIpvsTable.h"

#include <algorithm>
#include <cerrno>
#include <thread>

#include "base/Log.h"
#include "kmod/Diff.h"
#include "kmod/InMemoryIpvsTable.h"
#include "kmod/sched/Scheduler.h"

namespace kmod {

UserspaceIpvsTable::UserspaceIpvsTable(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) {
        threads_.push_back(std::make_unique<ForwardingThread>(static_cast<int>(i)));
        threads_.back()->start();
    }
    base::log::info("userspace plane: ", threads, " forwarding threads");
}

UserspaceIpvsTable::~UserspaceIpvsTable() {
    for (auto& t : threads_) t->stop();
}

base::Result<TableState> UserspaceIpvsTable::dump() { return state_; }

// A service's totals and rates are the sums of its destinations' (the estimator is linear).
base::Result<TableStatus> UserspaceIpvsTable::status() {
    TableStatus st;
    for (const auto& [key, entry] : state_.services) {
        ServiceStatus& s = st[key];
        for (const auto& [dk, d] : entry.dests) {
            auto it = counters_.find({key, dk});
            if (it == counters_.end()) continue;
            DestCounters& c = *it->second;
            DestStatus& ds = s.dests[dk];
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

std::error_code UserspaceIpvsTable::refuse(const Op& op) const {
    const char* why = nullptr;
    if (op.isServiceOp() && op.kind != Op::Kind::DelService) {
        const Service& s = op.service;
        if (s.key.isFwmark()) why = "fwmark services need the kernel plane";
        else if (s.key.protocol == kSctp) why = "SCTP needs the kernel plane";
        else if (isKnownScheduler(s.scheduler) && !makeScheduler(s.scheduler, s.flags))
            why = "this plane does not have that scheduler";
    }
    if ((op.kind == Op::Kind::AddDest || op.kind == Op::Kind::EditDest) && op.dest.forwarding != Forwarding::Masq)
        why = "the userspace plane forwards with full NAT only (DR and tunnel need the kernel plane)";
    if (!why) return {};
    base::log::error("userspace plane: refusing ", op.str(), ": ", why);
    return base::errnoCode(EOPNOTSUPP);
}

ApplyResult UserspaceIpvsTable::apply(const std::vector<Op>& ops) {
    ApplyResult r;
    for (size_t i = 0; i < ops.size(); ++i) {
        const Op& op = ops[i];
        const std::error_code refused = refuse(op);
        if (!r.record(i, op, refused ? refused : applyLikeKernel(state_, op))) continue;
        const ServiceKey& k = op.service.key;
        auto& order = order_[k];
        switch (op.kind) {
        case Op::Kind::DelService:
            for (const auto& d : order) {
                counters_.erase({k, d});
                lastWeight_.erase({k, d});
            }
            order_.erase(k);
            versions_.erase(k);
            continue;
        case Op::Kind::AddDest:
            order.insert(order.begin(), op.dest.key);  // as list_add_rcu: at the head
            counters_[{k, op.dest.key}] = std::make_shared<DestCounters>();
            lastWeight_[{k, op.dest.key}] = static_cast<int>(op.dest.weight);
            break;
        case Op::Kind::EditDest:
            if (op.dest.weight != 0) lastWeight_[{k, op.dest.key}] = static_cast<int>(op.dest.weight);
            break;
        case Op::Kind::DelDest:
            order.erase(std::remove(order.begin(), order.end(), op.dest.key), order.end());
            counters_.erase({k, op.dest.key});
            lastWeight_.erase({k, op.dest.key});
            break;
        default: break;
        }
        versions_[k] = nextVersion_++;
    }
    if (r.applied) publish();
    return r;
}

void UserspaceIpvsTable::publish() {
    auto snap = std::make_shared<Snapshot>();
    for (const auto& [key, entry] : state_.services) {
        auto s = std::make_shared<SnapshotService>();
        s->service = entry.service;
        s->version = versions_[key];
        if (entry.service.flags & kSvcPersistent) {
            auto& table = persistence_[key];
            const std::chrono::seconds timeout(entry.service.timeout ? entry.service.timeout : 300);
            if (!table) table = std::make_shared<PersistenceTable>(timeout);
            else table->setTimeout(timeout);
            s->persistence = table;
        } else {
            persistence_.erase(key);
        }
        for (const auto& dk : order_[key])
            s->dests.push_back(SnapshotDest{entry.dests.at(dk), counters_.at({key, dk}), lastWeight_.at({key, dk})});
        snap->services.emplace(key, std::move(s));
    }
    for (auto it = persistence_.begin(); it != persistence_.end();)
        it = state_.services.contains(it->first) ? std::next(it) : persistence_.erase(it);
    snap->udpTimeout = timeouts_.udp;
    snap->tcpTimeout = timeouts_.tcp;
    snap->tcpFinTimeout = timeouts_.tcpFin;
    std::shared_ptr<const Snapshot> frozen = std::move(snap);
    for (auto& t : threads_) t->publish(frozen);
}

std::error_code UserspaceIpvsTable::flush() {
    state_.services.clear();
    order_.clear();
    counters_.clear();
    lastWeight_.clear();
    versions_.clear();
    publish();
    return {};
}

std::error_code UserspaceIpvsTable::zero(const std::optional<ServiceKey>& only) {
    if (only && !state_.services.contains(*only)) return base::errnoCode(ESRCH);
    for (auto& [key, c] : counters_)
        if (!only || key.first == *only) c->zero();
    return {};
}

base::Result<std::vector<ConnEntry>> UserspaceIpvsTable::connections() {
    std::vector<ConnEntry> out;
    for (auto& t : threads_) {
        auto part = t->connections();
        out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    // persistence templates: as the kernel lists them, client port 0 and state NONE
    const auto now = PersistenceTable::Clock::now();
    for (const auto& [key, table] : persistence_) {
        table->forEach(now, [&](const base::IpAddress& net, const DestKey& dest, std::uint32_t left) {
            ConnEntry c;
            c.protocol = protocolName(key.protocol);
            c.client = net;
            c.vaddr = key.address;
            c.vport = key.port;
            c.daddr = dest.address;
            c.dport = dest.port;
            c.state = "NONE";
            c.expires = left;
            out.push_back(std::move(c));
        });
    }
    return out;
}

std::error_code UserspaceIpvsTable::setTimeouts(const Timeouts& t) {
    if (t.tcp) timeouts_.tcp = t.tcp;
    if (t.tcpFin) timeouts_.tcpFin = t.tcpFin;
    if (t.udp) timeouts_.udp = t.udp;
    publish();
    return {};
}

std::shared_ptr<const DestCounters> UserspaceIpvsTable::counters(const ServiceKey& svc, const DestKey& dest) const {
    auto it = counters_.find({svc, dest});
    return it == counters_.end() ? nullptr : it->second;
}

}  // namespace kmod
