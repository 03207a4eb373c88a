// DesiredState: what the IPVS table should hold, as a pure function of the config (and, once the
// checkers land, of health and VRRP role). The Reconciler makes the data plane match it.
#pragma once
#include "conf/Config.h"
#include "kmod/Model.h"

namespace director {

kmod::ServiceKey serviceKey(const conf::VirtualServer& vs);
kmod::Service serviceOf(const conf::VirtualServer& vs);
kmod::Dest destOf(const conf::VirtualServer& vs, const conf::RealServer& rs);
// Every configured virtual server with every real server at its configured weight.
kmod::TableState desiredTable(const conf::Config& cfg);

}  // namespace director
