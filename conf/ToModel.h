// The IPVS model of a configured virtual server: its key, its service and its real servers'
// destinations, as configured (health, disables and slow starts are the director's: DesiredState).
// Shared by the director and the config's validation of what a data plane can do.
#pragma once
#include "conf/Config.h"
#include "kmod/Model.h"

namespace conf {

kmod::ServiceKey serviceKey(const VirtualServer& vs);
kmod::Service serviceOf(const VirtualServer& vs);
kmod::Dest destOf(const VirtualServer& vs, const RealServer& rs);

}  // namespace conf
