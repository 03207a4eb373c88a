// SyncedConns: the connections a backup learned from its master (templates go to the services'
// PersistenceTables instead), with the kernel's rules (ip_vs_proc_conn): keyed by protocol, client
// and virtual address and port; a message for a known connection with another real server
// replaces it unless it is INACTIVE (a late expiry of the replaced one, ignored); every message
// re-arms the full timeout it carries. A connection bound to one of this plane's destinations
// counts in its active or inactive connections, as in the kernel; one without is kept unbound.
// When this plane becomes master, its UDP flows pick up a synced flow's real server; TCP
// connections cannot move (this plane terminates TCP), so they are dropped then.
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

namespace kmod {

class SyncedConns {
public:
    using Clock = std::chrono::steady_clock;
    // What happened to an entry.
    enum class Applied { Created, Updated, Replaced, Stale };
    Applied apply(const sync::SyncConn& c, std::shared_ptr<DestCounters> counters, Clock::time_point now);
    // A synced UDP flow of this client towards this service: its real server, and the entry is
    // handed over (removed; the live flow counts from now on).
    std::optional<DestKey> takeUdp(const ServiceKey& svc, const base::IpAddress& client, std::uint16_t port);
    void sweep(Clock::time_point now);
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
    };
    void uncount(Entry& e);
    void count(Entry& e);
    mutable std::mutex mutex_;
    std::map<Key, Entry> entries_;
};

}  // namespace kmod
