// Semantic validation: what no single setting can know. Names unique, references resolve (tracked
// scripts, sync-group members, the sync daemon's instance), no VRID twice on one interface, no VIP in
// two instances, no duplicate virtual or real server, families consistent, and what the chosen data
// plane cannot do. Appends to the same diagnostics as the loader.
#pragma once
#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

void validate(const Config& cfg, Diagnostics& diags);

}  // namespace conf
