// Quorum: every virtual server's quorum as the lvs worker keeps it (keepalived's rule, with
// hysteresis: director/lvs/DesiredState.h QuorumTracker), and the one map of it that the table, the
// announcements and the views (status, /metrics, SNMP) read. Pure: health is passed in, the
// transitions come back for the worker to log, trap and run quorum_up / quorum_down on.
#pragma once
#include <map>
#include <set>
#include <vector>

#include "conf/Config.h"
#include "director/lvs/DesiredState.h"

namespace director::lvs {

class Quorum {
public:
    struct Change {
        const conf::VirtualServer* vs = nullptr;
        kmod::ServiceKey key;
        bool up = true;  // regained (true) or lost
        long liveWeight = 0;
    };
    // The services of `only` (every configured one with null) against `health`, the real servers
    // in `disabled` not counted (the operator's): what changed. A full update forgets services the
    // config no longer has; a partial one forgets those of `only` it no longer has.
    std::vector<Change> update(const conf::Config& cfg, const HealthView& health, const std::set<RsId>& disabled,
                               const std::set<kmod::ServiceKey>* only = nullptr);
    // Up, or unknown (never computed) counts as up.
    bool up(const kmod::ServiceKey& key) const;
    // The services (of `only`, or all) that lost their quorum.
    std::set<kmod::ServiceKey> lost(const std::set<kmod::ServiceKey>* only = nullptr) const;
    // Every known service: up or not.
    std::map<kmod::ServiceKey, bool> states() const;

private:
    std::map<kmod::ServiceKey, QuorumTracker> trackers_;
};

}  // namespace director::lvs
