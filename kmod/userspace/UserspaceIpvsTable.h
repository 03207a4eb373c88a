// UserspaceIpvsTable: the embedded data plane, for kernels without IPVS. The same IpvsTable as the
// kernel's: the control side (the lvs worker) applies ops with the kernel's rules, keeps the
// kernel's destination order, and publishes an immutable Snapshot to the forwarding threads, which
// proxy TCP connections with full NAT (the client talks to the VIP, the plane to the real server).
// TCP connections are relayed with splice; UDP datagrams per client flow (UdpForwarder).
// What this plane cannot do is refused per op with EOPNOTSUPP and one clear log line: fwmark and
// SCTP services, DR and tunnel forwarding, one-packet scheduling and the mh/lblc/lblcr schedulers
// (not yet).
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "kmod/IpvsTable.h"
#include "kmod/userspace/ForwardingThread.h"
#include "kmod/userspace/PersistenceTable.h"
#include "kmod/userspace/Snapshot.h"

namespace kmod {

class UserspaceIpvsTable : public IpvsTable {
public:
    // threads = 0: one per CPU.
    explicit UserspaceIpvsTable(unsigned threads = 0);
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
    // services in key order, each one's destinations newest first (its scheduling order)
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> lastDumpOrder() const override {
        return {order_.begin(), order_.end()};
    }

    // The counters of a destination (null when it does not exist).
    std::shared_ptr<const DestCounters> counters(const ServiceKey& svc, const DestKey& dest) const;
    size_t threads() const { return threads_.size(); }

private:
    std::error_code refuse(const Op& op) const;
    void publish();

    TableState state_;
    Timeouts timeouts_;
    std::map<ServiceKey, std::vector<DestKey>> order_;  // newest first
    std::map<std::pair<ServiceKey, DestKey>, std::shared_ptr<DestCounters>> counters_;
    std::map<std::pair<ServiceKey, DestKey>, int> lastWeight_;  // the kernel's last_weight (mh keeps slots by it)
    std::map<ServiceKey, std::uint64_t> versions_;
    std::map<ServiceKey, std::shared_ptr<PersistenceTable>> persistence_;
    std::uint64_t nextVersion_ = 1;
    std::vector<std::unique_ptr<ForwardingThread>> threads_;
};

}  // namespace kmod
