// ReloadPlanner: old config vs new, object by stable key (virtual server: its service key; real
// server: address and port; VRRP instance: its name). Pure. The plan says what is kept as is, what
// is reconfigured, added and removed, so that reload touches only the delta and unchanged objects
// keep their state (health, VRRP role). The table delta itself comes from kmod::diff.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "conf/Config.h"
#include "kmod/Model.h"

namespace director::lvs {

struct ReloadPlan {
    std::vector<std::string> vsAdded, vsRemoved, vsChanged, vsKept;
    std::vector<std::string> vrrpAdded, vrrpRemoved, vrrpChanged, vrrpKept;
    std::set<kmod::ServiceKey> vsTouched;  // the keys of the added, removed and changed ones
    bool globalChanged = false;
    std::string summary() const;
};

ReloadPlan planReload(const conf::Config& before, const conf::Config& after);

}  // namespace director::lvs
