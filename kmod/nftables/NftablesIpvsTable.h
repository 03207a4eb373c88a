// NftablesIpvsTable: the IPVS model on nf_tables, for kernels without IPVS (docs/ARCHITECTURE.md,
// "The nftables plane"). The kernel forwards: DNAT (and, with source_nat, masquerade) in one table
// of directord's own (NftRuleset.h), conntrack carries every connection. Each apply() is one
// transaction: all of its ops take effect together or none does; the first transaction of a table
// object replaces the table whole (a restarted worker starts from a table it wrote itself, with
// no moment without rules). dump() compares what the kernel holds with what was written (someone
// deleted the table, a chain, a rule): on a difference the model is forgotten, so the reconciler
// puts everything back, in one transaction. Counters are the table's named counters; connections
// come from conntrack (Conntrack.h). No sync daemons (conntrackd's job), no forwarding limits.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "kmod/IpvsTable.h"
#include "kmod/nftables/Nft.h"
#include "kmod/nftables/NftRuleset.h"

namespace kmod::nftables {

class NftablesIpvsTable : public IpvsTable {
public:
    // Null, with `why`, when nf_tables cannot be used here (no kernel support, no CAP_NET_ADMIN).
    static std::unique_ptr<NftablesIpvsTable> open(nftables::RulesetOptions options, std::string& why);

    std::string name() const override { return "nftables"; }
    base::Result<TableState> dump() override;
    base::Result<TableStatus> status() override;
    ApplyResult apply(const std::vector<Op>& ops) override;
    std::error_code flush() override;
    base::Result<Timeouts> timeouts() override;
    std::error_code setTimeouts(const Timeouts& t) override;
    base::Result<std::vector<ConnEntry>> connections() override;
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> lastDumpOrder() const override;
    std::error_code zero(const std::optional<ServiceKey>& only) override;
    std::optional<PlaneInfo> info() override;
    std::optional<std::uint64_t> transactions() override { return transactions_; }

    // The last transaction's text.

private:
    explicit NftablesIpvsTable(nftables::RulesetOptions options);
    std::error_code applyToModel(std::map<ServiceKey, nftables::NftService>& model, const Op& op);
    void forgetStale(const std::vector<ServiceKey>& fresh);
    std::vector<nftables::NftService> services(const std::map<ServiceKey, nftables::NftService>& model) const;
    std::optional<std::string> commit(const std::string& commands);
    std::string stripDynamic(const std::string& listing) const;
    std::string persistElementsOf(const nftables::NftService& s, const std::vector<DestKey>& gone);

    nftables::Nft nft_;
    nftables::Ruleset rules_;
    std::map<ServiceKey, nftables::NftService> model_;
    std::uint32_t nextService_ = 1, nextDest_ = 1;
    bool written_ = false;  // the table was written whole by this object
    std::string expected_;  // the table as the kernel listed it after our last transaction
    std::uint64_t transactions_ = 0;
    // rates: the counters at the previous status(), and when
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> lastCounters_;
    std::chrono::steady_clock::time_point lastStatusAt_{};
    TableStatus lastRates_;
};

}  // namespace kmod::nftablesables
