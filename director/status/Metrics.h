// Metrics: the Prometheus text exposition (format 0.0.4) served on /metrics, rendered from the
// lvs worker's snapshot (director/status/Snapshot.h): the config, health with the operator's part,
// quorum, the plane's table and counters, and the VRRP instances' status from the vrrp worker. Names follow Prometheus conventions: `directord_`
// prefix, base units (bytes), `_total` counters. Labels: `virtual_server` ("tcp/10.0.0.1:80",
// "fwmark/7"), `real_server` ("10.0.1.1:80"), `instance` (the VRRP instance's name), `reason`.
#pragma once
#include <map>
#include <string>

#include "conf/Config.h"
#include "director/status/Snapshot.h"

namespace director::status {

// The exposition of a snapshot (director/status/Snapshot.h).
std::string metricsText(const Snapshot& v);

// "tcp/10.0.0.1:80", "udp/[2001:db8::1]:53", "fwmark/7" (IPv6 fwmark: "fwmark6/7").
std::string virtualServerLabel(const conf::VirtualServer& vs);

}  // namespace director::status
