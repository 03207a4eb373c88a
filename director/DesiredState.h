// DesiredState: what the IPVS table should hold, as a pure function of the config and the health
// of the real servers. The Reconciler makes the data plane match it.
//  - a real server that is up has its configured weight, or the weight its check asked for;
//  - one that is down leaves the service, or stays with weight 0 under inhibit_on_failure;
//  - a service whose live weight fell below quorum serves from its sorry server, if it has one.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>

#include "conf/Config.h"
#include "kmod/Model.h"

namespace director {

struct RsHealth {
    bool up = true;
    std::optional<int> weight;  // dynamic weight from a check
    std::string reason;         // why it is down
    int failedChecks = 0;       // how many of its checks fail (or cannot run)
    bool operator==(const RsHealth&) const = default;
};

struct HealthView {
    // Real servers with checks; the others count as up.
    std::map<std::pair<kmod::ServiceKey, kmod::DestKey>, RsHealth> servers;
    std::set<kmod::ServiceKey> quorumLost;
};

// The sum of the weights of the live real servers of `vs`.
long liveWeight(const conf::VirtualServer& vs, const HealthView& health);

// Quorum with hysteresis (keepalived's rule): lost below quorum - hysteresis, regained at
// quorum + hysteresis. Pure: update() returns the new state when it changes.
class QuorumTracker {
public:
    std::optional<bool> update(long liveWeight, int quorum, int hysteresis);
    bool up() const { return up_; }

private:
    bool up_ = true;
};

kmod::ServiceKey serviceKey(const conf::VirtualServer& vs);
kmod::Service serviceOf(const conf::VirtualServer& vs);
kmod::Dest destOf(const conf::VirtualServer& vs, const conf::RealServer& rs);
kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health = {});
// The same for the services in `only` (a reload or a health change touches a few of many).
kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health, const std::set<kmod::ServiceKey>& only);

}  // namespace director
