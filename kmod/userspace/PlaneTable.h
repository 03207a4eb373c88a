// PlaneTable: the userspace plane's table as its forwarding side needs it: every service with its
// destinations in the kernel's list order (newest first), each destination's last non-zero weight
// (mh keeps its slots by it) and a stable id (a destination deleted and added again is a new one,
// with new counters, as in the kernel), each service's version (bumped on every change to it or
// its destinations, so forwarding threads rebuild only the schedulers that changed), and the
// timeouts. Plain values: the control side (UserspaceIpvsTable) builds it, the Forwarder loads
// it, in this process or in the forwarding worker (docs/ARCHITECTURE.md).
#pragma once
#include <cstdint>
#include <vector>

#include "kmod/IpvsTable.h"

namespace kmod::userspace {

// A persistence template's binding, as the forwarding worker hands it to the supervisor.
struct KeptTemplate {
    ServiceKey service;
    base::IpAddress clientNet;
    DestKey dest;
    std::uint16_t state = 0;  // PersistenceTable::kNone or kAssured
    bool operator==(const KeptTemplate&) const = default;
};

struct PlaneDest {
    Dest dest;
    int lastWeight = 0;
    std::uint64_t id = 0;
    bool operator==(const PlaneDest&) const = default;
};

struct PlaneService {
    Service service;
    std::vector<PlaneDest> dests;
    std::uint64_t version = 0;
    bool operator==(const PlaneService&) const = default;
};

struct PlaneTable {
    std::vector<PlaneService> services;  // in key order
    Timeouts timeouts;
    ForwardingLimits limits;
    bool operator==(const PlaneTable&) const = default;
};

// Where the control side sends its table, and asks for what forwarding counted: a Forwarder in
// this process (LocalPlane), or the forwarding worker over the typed protocol.
class PlaneLink {
public:
    virtual ~PlaneLink() = default;
    virtual void load(const PlaneTable& table) = 0;
    // The counters and connections as last known (refresh() brings them up to date).
    virtual TableStatus status() = 0;
    virtual std::vector<ConnEntry> connections() = 0;
    virtual void zero(const std::optional<ServiceKey>& only) = 0;
    // Calls `done` once status() and connections() are current (at once in this process).
    virtual void refresh(std::function<void()> done) { done(); }
    // The sync daemons where forwarding runs, with the kernel's errors (SyncDaemonControl).
    virtual std::error_code startDaemon(const SyncDaemon& d) = 0;
    virtual std::error_code stopDaemon(std::uint32_t state) = 0;
    virtual std::vector<SyncDaemon> daemons() = 0;
    virtual std::optional<SyncStatus> syncStatus() = 0;
    virtual ForwardingCounters forwarding() = 0;
    // Calls `done` once daemons() and syncStatus() are current (cheaper than refresh()).
    virtual void refreshDaemons(std::function<void()> done) { done(); }
};

}  // namespace kmod::userspace
