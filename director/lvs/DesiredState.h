// DesiredState: what the IPVS table should hold, as a pure function of the config and the health
// of the real servers. The Reconciler makes the data plane match it.
//  - a real server that is up has its configured weight, or the weight its check asked for;
//  - one that is down leaves the service, or stays with weight 0 under inhibit_on_failure;
//  - a service whose live weight fell below quorum serves from its sorry server, if it has one;
//  - a disabled real server (directorctl disable) stays with weight 0: no new connections, the
//    established ones go on; it does not count towards quorum;
//  - a real server in its slow start has a share of its weight (at least 1).
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>

#include "conf/Config.h"
#include "conf/ToModel.h"
#include "kmod/Model.h"

namespace director::lvs {

struct RsHealth {
    bool up = true;
    std::optional<int> weight;  // dynamic weight from a check
    std::string reason;         // why it is down
    int failedChecks = 0;       // how many of its checks fail (or cannot run)
    bool operator==(const RsHealth&) const = default;
};

using RsId = std::pair<kmod::ServiceKey, kmod::DestKey>;

struct HealthView {
    // Real servers with checks; the others count as up.
    std::map<RsId, RsHealth> servers;
    std::set<kmod::ServiceKey> quorumLost;
    std::set<RsId> disabled;      // weight 0 by the operator
    std::map<RsId, double> ramp;  // slow start: the share of the weight in force, in (0, 1)
};

// Slow start: the share of its weight a real server has `elapsed` into a ramp of `length`
// (1 once the ramp is over or when there is none).
double rampShare(base::Duration elapsed, base::Duration length);
// The weight in force for `weight` at `share` of it: at least 1 while ramping, unless 0.
std::uint32_t rampedWeight(std::uint32_t weight, double share);

// The sum of the weights of the live real servers of `vs` (disabled ones, in `health` or in
// `alsoDisabled`, do not count).
long liveWeight(const conf::VirtualServer& vs, const HealthView& health, const std::set<RsId>& alsoDisabled = {});

// Quorum with hysteresis (keepalived's rule): lost below quorum - hysteresis, regained at
// quorum + hysteresis. Pure: update() returns the new state when it changes.
class QuorumTracker {
public:
    std::optional<bool> update(long liveWeight, int quorum, int hysteresis);
    bool up() const { return up_; }

private:
    bool up_ = true;
};

using conf::destOf;
using conf::serviceKey;
using conf::serviceOf;
kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health = {});
// The same for the services in `only` (a reload or a health change touches a few of many).
kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health, const std::set<kmod::ServiceKey>& only);

}  // namespace director::lvs
