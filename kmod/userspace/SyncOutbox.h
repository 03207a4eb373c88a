// SyncOutbox: where the forwarding threads put what the master sync daemon sends (the kernel's
// ip_vs_sync_conn call sites), and the kernel's rules for what is sent and when, applied to the
// events this plane sees (docs/ARCHITECTURE.md, "Sync"):
//   UDP flows      every inbound datagram counts, as in the kernel: sent at the `threshold`-th,
//                  then every `period` (sync_threshold "3 50"); one-packet flows never
//   TCP            sent when established (the kernel's third packet is the first after the
//                  handshake) and when it closes (the kernel's forced sync on a close state);
//                  never while connecting (SYN_RECV is not synced by the kernel either)
//   templates      when created or re-bound, when a new connection joins them (at most once per
//                  `templateRepeat`: the kernel sends them on every packet), when their last
//                  connection ends (their expiry starts again), and when their expiry comes
//                  while connections hold them (60 s more: the kernel's expire_later)
// Thread-safe: push() from any forwarding thread; the sync engine drains it on its own thread.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "kmod/Model.h"
#include "kmod/sync/SyncProtocol.h"

namespace kmod::userspace {

class SyncOutbox {
public:
    using Clock = std::chrono::steady_clock;
    struct Item {
        sync::SyncConn conn;
        Clock::time_point queued;
    };
    static constexpr size_t kMaxQueued = 1u << 18;  // entries waiting for the engine; past it they are dropped

    // True while a master daemon runs: the threads build entries only then.
    bool master() const { return master_.load(std::memory_order_relaxed); }
    void setMaster(bool on) { master_.store(on, std::memory_order_relaxed); }

    std::uint32_t threshold = 3, period = 50;  // sync_threshold
    std::chrono::milliseconds templateRepeat{1000};

    // The kernel's packet rule (ip_vs_sync_conn_needed with sync_refresh_period 0).
    bool packetDue(std::uint64_t pkts) const { return period ? pkts % period == threshold : pkts == threshold; }

    void push(sync::SyncConn c) {
        if (!master()) return;
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex_);
            if (items_.size() >= kMaxQueued) {
                ++dropped_;
                return;
            }
            const bool first = items_.empty();
            items_.push_back(Item{std::move(c), Clock::now()});
            if (first) wake = wake_;
        }
        if (wake) wake();
    }
    // Everything queued, oldest first.
    std::vector<Item> drain() {
        std::lock_guard lock(mutex_);
        std::vector<Item> out;
        out.swap(items_);
        return out;
    }
    // Called (from the pushing thread) when the queue goes from empty to not empty.
    void onFirst(std::function<void()> wake) {
        std::lock_guard lock(mutex_);
        wake_ = std::move(wake);
    }
    std::uint64_t dropped() const {
        std::lock_guard lock(mutex_);
        return dropped_;
    }

private:
    std::atomic<bool> master_{false};
    mutable std::mutex mutex_;
    std::vector<Item> items_;
    std::function<void()> wake_;
    std::uint64_t dropped_ = 0;
};

// The entries this plane sends (full NAT: the forwarding bits are masquerading).
inline sync::SyncConn syncEntry(const ServiceKey& svc, const base::IpAddress& client, std::uint16_t cport,
                                const DestKey& dest, std::uint16_t state, std::uint32_t timeout, std::uint32_t flags) {
    sync::SyncConn c;
    c.family = svc.address.family();
    c.protocol = static_cast<std::uint8_t>(svc.protocol);
    c.flags = flags;
    c.state = state;
    c.cport = cport;
    c.vport = svc.port;
    c.dport = dest.port;
    c.timeout = timeout;
    c.caddr = client;
    c.vaddr = svc.address;
    c.daddr = dest.address;
    return c;
}

inline sync::SyncConn templateEntry(const ServiceKey& svc, const base::IpAddress& clientNet, const DestKey& dest,
                                    std::uint32_t timeout, std::uint16_t state) {
    return syncEntry(svc, clientNet, 0, dest, state, timeout, sync::kTemplate);
}

}  // namespace kmod::userspace
