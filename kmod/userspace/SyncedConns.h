// SyncedConns: the connections a backup learned from its master (templates go to the services'
// PersistenceTables instead), with the kernel's rules (ip_vs_proc_conn): keyed by protocol, client
// and virtual address and port; a message for a known connection with another real server
// replaces it unless it is INACTIVE (a late expiry of the replaced one, ignored); every message
// re-arms the full timeout it carries. A connection bound to one of this plane's destinations
// counts in its active or inactive connections, as in the kernel; one without is kept unbound.
// When this plane becomes master, its UDP flows pick up a synced flow's real server; TCP
// connections cannot move (this plane terminates TCP), so they are dropped then.
// Each entry counts in the SyncBudget against its sender (refused past a cap), and the sweep
// walks the table a chunk at a time, so the lock the forwarding threads take is held for a few
// microseconds whatever the table's size.
// Thread-safe: the sync engine writes, forwarding threads look up UDP flows, listings read.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "kmod/IpvsTable.h"
#include "kmod/sync/SyncProtocol.h"
#include "kmod/userspace/Snapshot.h"
#include "kmod/userspace/SyncBudget.h"

namespace kmod::userspace {

class SyncedConns {
public:
    using Clock = std::chrono::steady_clock;
    // What happened to an entry (Refused: a new one past a SyncBudget cap, not installed).
    enum class Applied { Created, Updated, Replaced, Stale, RefusedTotal, RefusedPerSource };
    // `source`: the datagram's sender, whose share it counts in; `timeout`: the seconds it lives
    // (0: the message's own, or the protocol's when that is 0).
    Applied apply(const sync::SyncConn& c, std::shared_ptr<DestCounters> counters, Clock::time_point now,
                  const base::IpAddress& source = {}, std::uint32_t timeout = 0);
    // A synced UDP flow of this client towards this service: its real server, and the entry is
    // handed over (removed; the live flow counts from now on).
    std::optional<DestKey> takeUdp(const ServiceKey& svc, const base::IpAddress& client, std::uint16_t port);
    // Drops expired entries, a whole pass.
    void sweep(Clock::time_point now);
    // One step of an incremental pass: at most `chunk` entries under the lock, from where the
    // last step stopped; true when the pass reached the end (the next step starts again).
    static constexpr size_t kSweepChunk = 64;
    bool sweepStep(Clock::time_point now, size_t chunk = kSweepChunk);
    const std::shared_ptr<SyncBudget>& budget() const { return budget_; }
    // Drops the TCP and SCTP entries (this plane became master: those connections ended with
    // their director).
    size_t dropStreams();
    void clear();
    void list(std::vector<ConnEntry>& out, Clock::time_point now) const;
    size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct Key {
        std::uint8_t protocol;
        base::IpAddress caddr;
        std::uint16_t cport;
        base::IpAddress vaddr;
        std::uint16_t vport;
        std::uint32_t fwmark;
        auto operator<=>(const Key&) const = default;
    };
    struct Entry {
        base::IpAddress daddr;
        std::uint16_t dport = 0;
        std::uint16_t state = 0;
        std::uint32_t flags = 0;
        Clock::time_point expires;
        std::shared_ptr<DestCounters> counters;  // null: unbound
        bool inactive = false;                   // counted as inactive (else active)
        base::IpAddress source;                  // the sender it counts against in the budget
    };
    void uncount(Entry& e);
    void count(Entry& e);
    void erase(std::map<Key, Entry>::iterator& it);  // uncounts it, gives its unit back, moves on
    mutable std::mutex mutex_;
    std::map<Key, Entry> entries_;
    std::optional<Key> cursor_;  // where the incremental sweep goes on
    std::shared_ptr<SyncBudget> budget_ = std::make_shared<SyncBudget>();
};

}  // namespace kmod::userspace
