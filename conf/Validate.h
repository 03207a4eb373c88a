// Semantic validation: what no single setting can know. Names unique, references resolve (tracked
// scripts, sync-group members, the sync daemon's instance), no VRID twice on one interface, no VIP in
// two instances, no duplicate virtual or real server, families consistent, and what the chosen data
// plane cannot do. Appends to the same diagnostics as the loader.
#pragma once
#include "conf/Config.h"
#include "conf/Diagnostic.h"

#include <map>
#include <string>

namespace conf {

void validate(const Config& cfg, Diagnostics& diags);

// The macvlan each `vmac` instance uses, by instance name: its own `vmac.name`, or keepalived's
// choice (vrrp.VRID; when that is taken, vrrp6.VRID for IPv6, then vrrp1.VRID, vrrp2.VRID, ...).
std::map<std::string, std::string> vmacNames(const Config& cfg);

// What `plane` cannot do of `cfg` (all virtual servers, or only `only`): today the nftables plane's
// limits (kmod/NftablesSupport.h) and its lack of IPVS sync daemons. For data_plane = "nftables" at
// load, for `auto`'s choice, and for a reload on the plane auto chose.
Diagnostics planeProblems(const Config& cfg, DataPlane plane, const VirtualServer* only = nullptr);

}  // namespace conf
