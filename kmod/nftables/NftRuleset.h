// NftRuleset: the nftables plane's ruleset as text in the nft language, a pure function of the
// services (no I/O). One table of its own (inet, so IPv4 and IPv6 together), changed only by whole
// transactions the plane hands to libnftables (NftablesIpvsTable.h):
//
//   prerouting / output (nat, dstnat)  ip daddr . l4proto . dport vmap @dispatch4  -> jump svc_N
//                                      meta mark vmap @marks (fwmark services)     -> jump svc_N
//   svc_N                              persistence first (dnat from @persist_N), then the scheduler:
//                                      rr/wrr: numgen inc over the kernel's own wrr sequence;
//                                      sh/dh/mh: jhash into the kernel's bucket / Maglev table
//                                      (built by kmod's schedulers); fo: the heaviest destination
//   postrouting (filter)               ct original daddr . l4proto vmap @post4 -> vip_V
//   vip_V                              ct original proto-dst P jump post_N (one rule per port)
//   post_N                             per destination: new connections, packets and bytes in each
//                                      direction into named counters; persistence templates
//                                      recorded (update @persist_N, the client's network -> dest)
//   srcnat (nat, with source_nat)      connections of our VIPs masqueraded
//
// A weight-0 destination is left out of its service's schedule (quiesced: conntrack carries the
// established connections on). What nftables cannot express exactly is refused
// (kmod/NftablesSupport.h).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kmod/Model.h"
#include "kmod/NftablesSupport.h"

namespace kmod::nftables {

struct NftDest {
    std::uint32_t id = 0;  // stable while the destination exists: its counters' names
    Dest dest;
    int lastWeight = -1;  // the kernel's last_weight (mh keeps a quiesced destination's slots)
};

struct NftService {
    std::uint32_t id = 0;  // stable while the service exists: its chains' names
    Service service;
    std::vector<NftDest> dests;  // the kernel's list order: newest first
};

struct RulesetOptions {
    std::string table = "directord";
    bool sourceNat = false;  // masquerade the connections to the real servers
};

using kmod::nftablesUnsupported;

// The destination each hash slot (or sequence step) goes to, as index into svc.dests; -1: none.
// rr/wrr: one whole cycle of the kernel's sequence; sh/dh: the 256 buckets; mh: the Maglev table.
std::vector<int> schedule(const NftService& svc);

// Names of a service's objects.
std::string chainName(const NftService& s);
std::string persistMap(const NftService& s);
std::string counterName(const NftService& s, const NftDest& d, char kind);  // kind: 'n' new, 'i' in, 'o' out

class Ruleset {
public:
    explicit Ruleset(RulesetOptions o) : o_(std::move(o)) {}
    const RulesetOptions& options() const { return o_; }

    // The whole table from nothing (after `delete table` when `replace`): one transaction.
    std::string full(const std::vector<NftService>& services, bool replace) const;
    // One transaction that brings each changed service from `before` (nullopt: new) to `after`
    // (nullopt: gone); `all` is every service after the change.
    struct Change {
        std::optional<NftService> before, after;
    };
    std::string changes(const std::vector<Change>& changes, const std::vector<NftService>& all) const;

private:
    std::string base() const;
    std::string serviceObjects(const NftService& s) const;      // counters, persistence map, chains
    std::string serviceRules(const NftService& s) const;        // svc_N and post_N contents
    std::string dispatch(const NftService& s, bool add) const;  // its element in @dispatch/@marks
    std::string vipChains(const std::vector<NftService>& all) const;
    RulesetOptions o_;
};

}  // namespace kmod::nftables
