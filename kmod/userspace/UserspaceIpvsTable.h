// UserspaceIpvsTable: the embedded data plane's control side, for kernels without IPVS. The same
// IpvsTable as the kernel's: ops are applied with the kernel's rules, the kernel's destination
// order is kept, and every change goes out as a PlaneTable through a PlaneLink to the Forwarder,
// which proxies TCP connections with full NAT (the client talks to the VIP, the plane to the real
// server; splice) and UDP datagrams per client flow. The Forwarder runs in this process
// (LocalPlane: tests, --single-process) or in the forwarding worker, so a crash of the checkers'
// process leaves clients' connections alone (docs/ARCHITECTURE.md).
// What this plane cannot do is refused per op with EOPNOTSUPP and one clear log line: fwmark and
// SCTP services, DR and tunnel forwarding.
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "kmod/IpvsTable.h"
#include "kmod/userspace/Forwarder.h"
#include "kmod/userspace/PlaneTable.h"

namespace kmod::userspace {

class UserspaceIpvsTable : public IpvsTable, public SyncDaemonControl {
public:
    // With its own Forwarder in this process; threads = 0: one per CPU.
    explicit UserspaceIpvsTable(unsigned threads = 0);
    // Forwarding elsewhere (the forwarding worker).
    explicit UserspaceIpvsTable(std::unique_ptr<PlaneLink> link);
    ~UserspaceIpvsTable() override;

    std::string name() const override { return "userspace"; }
    base::Result<TableState> dump() override;
    base::Result<TableStatus> status() override;
    ApplyResult apply(const std::vector<Op>& ops) override;
    std::error_code flush() override;
    base::Result<Timeouts> timeouts() override { return timeouts_; }
    std::error_code setTimeouts(const Timeouts& t) override;
    base::Result<std::vector<ConnEntry>> connections() override;
    std::error_code zero(const std::optional<ServiceKey>& only) override;
    void refresh(std::function<void()> done) override { link_->refresh(std::move(done)); }
    // The sync daemons run where forwarding runs (SyncEngine).
    SyncDaemonControl* syncDaemons() override { return this; }
    base::Result<std::vector<SyncDaemon>> daemons() override { return link_->daemons(); }
    std::error_code startDaemon(const SyncDaemon& d) override { return link_->startDaemon(d); }
    bool filtersReceive() const override { return true; }
    std::error_code stopDaemon(std::uint32_t state) override { return link_->stopDaemon(state); }
    std::optional<SyncStatus> syncStatus() override { return link_->syncStatus(); }
    void refreshDaemons(std::function<void()> done) override { link_->refreshDaemons(std::move(done)); }
    void setForwardingLimits(const ForwardingLimits& l) override {
        if (l == limits_) return;
        limits_ = l;
        publish();
    }
    std::optional<ForwardingCounters> forwarding() override { return link_->forwarding(); }
    // services in key order, each one's destinations newest first (its scheduling order)
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> lastDumpOrder() const override {
        return {order_.begin(), order_.end()};
    }

    // Takes over a table the forwarding side already has (a restarted lvs worker), as the kernel
    // plane takes over the kernel's table; sends nothing.
    void adopt(const PlaneTable& table);
    // The PlaneTable of the current state.
    PlaneTable planeTable() const;
    // The counters of a destination when the Forwarder is in this process (else null).
    std::shared_ptr<const DestCounters> counters(const ServiceKey& svc, const DestKey& dest) const;

private:
    std::error_code refuse(const Op& op) const;
    void publish();

    std::unique_ptr<PlaneLink> link_;
    LocalPlane* local_ = nullptr;  // link_, when it is in this process
    TableState state_;
    Timeouts timeouts_;
    ForwardingLimits limits_;
    std::map<ServiceKey, std::vector<DestKey>> order_;          // newest first
    std::map<std::pair<ServiceKey, DestKey>, int> lastWeight_;  // the kernel's last_weight (mh keeps slots by it)
    std::map<std::pair<ServiceKey, DestKey>, std::uint64_t> ids_;
    std::map<ServiceKey, std::uint64_t> versions_;
    std::uint64_t nextVersion_ = 1;
    std::uint64_t nextId_ = 1;
};

}  // namespace kmod::userspace
