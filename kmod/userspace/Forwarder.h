// Forwarder: the forwarding side of the userspace plane. It owns the forwarding threads, every
// destination's counters (kept by destination id across table loads) and the persistence
// templates (kept by service while the service stays persistent), turns each PlaneTable it is
// given into an immutable Snapshot and publishes it to the threads. Its owner (LocalPlane in the
// lvs worker's process, or the forwarding worker) calls it from one thread.
#pragma once
#include <map>
#include <utility>
#include <memory>
#include <optional>
#include <vector>

#include "kmod/userspace/Budget.h"
#include "kmod/userspace/ForwardingThread.h"
#include "kmod/userspace/PersistenceTable.h"
#include "kmod/userspace/PlaneTable.h"
#include "kmod/userspace/Snapshot.h"
#include "kmod/userspace/SyncEngine.h"

namespace kmod::userspace {

class Forwarder {
public:
    // threads = 0: one per CPU.
    explicit Forwarder(unsigned threads = 0);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    void load(const PlaneTable& table);
    // The last table loaded (a restarted lvs worker adopts it, as it would dump the kernel's).
    const PlaneTable& table() const { return table_; }
    TableStatus status() const;
    std::vector<ConnEntry> connections();
    void zero(const std::optional<ServiceKey>& only);
    // The counters of a destination (null when it does not exist).
    std::shared_ptr<const DestCounters> counters(const ServiceKey& svc, const DestKey& dest) const;
    size_t threads() const { return threads_.size(); }

    // The sync daemons (ipvsadm --start-daemon / --stop-daemon), with the kernel's errors.
    std::error_code startSync(const SyncDaemon& d);
    std::error_code stopSync(std::uint32_t state);
    std::vector<SyncDaemon> syncDaemons();
    std::optional<SyncStatus> syncStatus();
    ForwardingCounters forwarding() const { return budget_->counters(); }

    // The persistence templates' bindings, for a copy outside this process (the supervisor keeps
    // the forwarding worker's, so the worker that replaces a dead one sends each client network
    // where it went); `templateChanges` says when they changed. `restoreTemplates` installs such a
    // copy after load() (each expiring a persistence timeout from now, as if just used), skipping
    // services and real servers the table no longer has; how many it installed.
    std::vector<KeptTemplate> templates() const;
    // (persistence tables made or dropped, their binding changes): different means changed
    std::pair<std::uint64_t, std::uint64_t> templateChanges() const;
    size_t restoreTemplates(const std::vector<KeptTemplate>& kept);

private:
    PlaneTable table_;
    std::map<std::uint64_t, std::shared_ptr<DestCounters>> counters_;  // by destination id
    std::map<ServiceKey, std::shared_ptr<PersistenceTable>> persistence_;
    std::uint64_t persistenceSets_ = 0;  // persistence tables made or dropped (templateChanges)
    std::map<ServiceKey, std::shared_ptr<SharedScheduler>> shared_;  // rr and wrr services
    std::shared_ptr<SyncOutbox> outbox_ = std::make_shared<SyncOutbox>();
    std::shared_ptr<SyncedConns> synced_ = std::make_shared<SyncedConns>();
    std::shared_ptr<Budget> budget_ = std::make_shared<Budget>();
    std::shared_ptr<const Snapshot> snapshot_;
    std::unique_ptr<SyncEngine> engine_;  // from the first daemon on
    std::vector<std::unique_ptr<ForwardingThread>> threads_;
};

// A Forwarder in this process.
class LocalPlane : public PlaneLink {
public:
    explicit LocalPlane(unsigned threads = 0) : forwarder_(threads) {}
    void load(const PlaneTable& table) override { forwarder_.load(table); }
    TableStatus status() override { return forwarder_.status(); }
    std::vector<ConnEntry> connections() override { return forwarder_.connections(); }
    void zero(const std::optional<ServiceKey>& only) override { forwarder_.zero(only); }
    std::error_code startDaemon(const SyncDaemon& d) override { return forwarder_.startSync(d); }
    std::error_code stopDaemon(std::uint32_t state) override { return forwarder_.stopSync(state); }
    std::vector<SyncDaemon> daemons() override { return forwarder_.syncDaemons(); }
    std::optional<SyncStatus> syncStatus() override { return forwarder_.syncStatus(); }
    ForwardingCounters forwarding() override { return forwarder_.forwarding(); }
    Forwarder& forwarder() { return forwarder_; }

private:
    Forwarder forwarder_;
};

}  // namespace kmod::userspace
