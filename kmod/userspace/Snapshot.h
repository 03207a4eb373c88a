// The userspace data plane's table as the forwarding threads see it: an immutable snapshot of the
// services and their destinations (in the kernel's list order), published by the control side on
// every change and read lock-free by the threads. Counters live in DestCounters objects that
// outlive snapshots (a destination kept across changes keeps its counters; connections hold them).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include <mutex>

#include "kmod/Model.h"
#include "kmod/Stats.h"
#include "kmod/sched/Scheduler.h"

namespace kmod::userspace {

struct DestCounters {
    std::atomic<std::uint32_t> active{0};    // established connections
    std::atomic<std::uint32_t> inactive{0};  // connections being set up or closing
    std::atomic<std::uint64_t> conns{0};
    std::atomic<std::uint64_t> inBytes{0};   // client -> real server
    std::atomic<std::uint64_t> outBytes{0};  // real server -> client
    std::atomic<std::uint64_t> inPkts{0};    // TCP segments / UDP datagrams from clients
    std::atomic<std::uint64_t> outPkts{0};   // ... to clients
    std::mutex estimatorMutex;               // ticked by thread 0 every 2 s, read by the control side
    RateEstimator estimator;

    StatsCounters totals() const {
        return StatsCounters{conns.load(std::memory_order_relaxed), inPkts.load(std::memory_order_relaxed),
                             outPkts.load(std::memory_order_relaxed), inBytes.load(std::memory_order_relaxed),
                             outBytes.load(std::memory_order_relaxed)};
    }
    void tick() {
        std::lock_guard lock(estimatorMutex);
        estimator.tick(totals());
    }
    StatsRates rates() {
        std::lock_guard lock(estimatorMutex);
        return estimator.read();
    }
    // ipvsadm -Z: the counters and the rate estimator start again from zero (connection counts stay).
    void zero() {
        std::lock_guard lock(estimatorMutex);
        for (auto* c : {&conns, &inBytes, &outBytes, &inPkts, &outPkts}) c->store(0, std::memory_order_relaxed);
        estimator = RateEstimator{};
    }
    std::atomic<std::uint64_t> failed{0};      // connects refused, reset or timed out
    std::atomic<std::uint32_t> persistent{0};  // persistence templates pointing here
    std::atomic<bool> overloaded{false};       // IP_VS_DEST_F_OVERLOAD

    std::uint32_t total() const {
        return active.load(std::memory_order_relaxed) + inactive.load(std::memory_order_relaxed);
    }
    // The kernel's rules (ip_vs_bind_dest / ip_vs_unbind_dest): overloaded once the connections
    // reach the upper threshold; back below the lower one (or 3/4 of the upper when no lower).
    void afterBind(std::uint32_t upper) {
        if (upper && total() >= upper) overloaded.store(true, std::memory_order_relaxed);
    }
    void afterUnbind(std::uint32_t upper, std::uint32_t lower) {
        const std::uint32_t t = total();
        if (lower ? t < lower : (!upper || t * 4 < upper * 3)) overloaded.store(false, std::memory_order_relaxed);
    }
};

// rr and wrr: one sequence per service for all the forwarding threads, as the kernel keeps one per
// service (a thread of its own each would send a client's four curls to 2,1,2,2). The first
// thread to see a new version of the service's destinations updates it; picks take the mutex (one
// per new connection: nothing next to the connection's syscalls).
class SharedScheduler {
public:
    SharedScheduler(std::string name, std::uint32_t flags) : name_(std::move(name)), flags_(flags) {}
    const std::string& name() const { return name_; }
    std::uint32_t flags() const { return flags_; }
    void update(std::uint64_t version, const std::vector<sched::SchedDest>& dests) {
        std::lock_guard lock(m_);
        if (s_ && version == version_) return;
        if (!s_) {
            s_ = sched::makeScheduler(name_, flags_);
            if (s_) sched::updateOneByOne(*s_, dests);
        } else {
            s_->update(dests);
        }
        version_ = version;
    }
    std::optional<size_t> pick(const std::vector<sched::SchedDest>& dests, const sched::SchedPacket& p) {
        std::lock_guard lock(m_);
        return s_ ? s_->pick(dests, p) : std::nullopt;
    }

private:
    std::mutex m_;
    std::string name_;
    std::uint32_t flags_;
    std::unique_ptr<sched::Scheduler> s_;
    std::uint64_t version_ = 0;
};

class PersistenceTable;
class SyncOutbox;
class SyncedConns;
class Budget;

struct SnapshotDest {
    Dest dest;
    std::shared_ptr<DestCounters> counters;
    int lastWeight = -1;  // the kernel's last_weight: the weight when added, then the latest non-zero one
};

struct SnapshotService {
    Service service;
    std::vector<SnapshotDest> dests;                // newest first, as the kernel lists them
    std::uint64_t version = 0;                      // changes whenever this service or its dests change
    std::shared_ptr<PersistenceTable> persistence;  // set for persistent services; outlives snapshots
    std::shared_ptr<SharedScheduler> shared;        // rr and wrr: the one sequence of every thread
};

struct Snapshot {
    std::map<ServiceKey, std::shared_ptr<const SnapshotService>> services;
    std::uint32_t udpTimeout = 300;       // seconds a UDP flow lives without traffic
    std::uint32_t tcpTimeout = 900;       // seconds an established connection may stay idle
    std::uint32_t tcpFinTimeout = 120;    // seconds a closed connection still counts (inactive)
    std::shared_ptr<SyncOutbox> sync;     // what the master sync daemon sends (always set)
    std::shared_ptr<SyncedConns> synced;  // what the backup learned (always set)
    std::shared_ptr<Budget> budget;       // descriptors for flows and connections (always set)
};

}  // namespace kmod::userspace
