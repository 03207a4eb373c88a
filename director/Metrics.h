// Metrics: the Prometheus text exposition (format 0.0.4) served on /metrics, built by the lvs
// worker from what it knows: the config, health, quorum, the plane's table and counters, and the
// VRRP instances' status from the vrrp worker. Names follow Prometheus conventions: `directord_`
// prefix, base units (bytes), `_total` counters. Labels: `virtual_server` ("tcp/10.0.0.1:80",
// "fwmark/7"), `real_server` ("10.0.1.1:80"), `instance` (the VRRP instance's name), `reason`.
#pragma once
#include <map>
#include <string>

#include "conf/Config.h"
#include "director/Announcer.h"
#include "director/DesiredState.h"
#include "director/HealthMonitor.h"
#include "director/protocol/Messages.h"
#include "kmod/IpvsTable.h"
#include "kmod/Model.h"
#include "kmod/Stats.h"

namespace director {

struct MetricsView {
    const conf::Config& cfg;
    const std::map<std::string, vrrp::State>& roles;
    const std::map<std::string, protocol::InstanceStatus>& vrrp;
    const HealthView& health;
    const std::map<kmod::ServiceKey, bool>& quorumUp;
    const kmod::TableState* table = nullptr;
    const kmod::TableStatus* status = nullptr;
    std::uint64_t reloads = 0, resyncs = 0, driftRepairs = 0;
    std::uint64_t httpRequests = 0;
    const std::vector<HealthMonitor::CheckStats>* checks = nullptr;
    const kmod::SyncStatus* sync = nullptr;  // connection sync's counters; null: no sync daemon
    bool syncSendsCounted = true;            // false on the kernel plane (its master counts nothing)
    bool process = true;                     // process_* of this process (/proc/self)
    const std::vector<Announcement>* announcements = nullptr;  // global.announce: each VIP's
};

std::string metricsText(const MetricsView& v);

// "tcp/10.0.0.1:80", "udp/[2001:db8::1]:53", "fwmark/7" (IPv6 fwmark: "fwmark6/7").
std::string virtualServerLabel(const conf::VirtualServer& vs);

}  // namespace director
