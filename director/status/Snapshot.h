// Snapshot: the lvs worker's state taken once, for one change or one request, and rendered by
// every view: directorctl's tables and JSON (statusReport, then renderStatus / renderServers /
// writeServersJson), /status and SIGUSR1 (LvsWorker::stateJson, with the same rows), /metrics
// (metricsText) and SNMP (mib::addKeepalived and the VRRP MIBs, and their traps). What one view
// shows of a real server (down, disabled, ramping, its weight), the others show from the same
// values; tests/unit/director/status/SnapshotTest.cpp renders one snapshot four ways.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conf/Config.h"
#include "director/lvs/Announcer.h"
#include "director/lvs/DesiredState.h"
#include "director/lvs/HealthMonitor.h"
#include "director/status/StatusReport.h"
#include "director/protocol/Messages.h"
#include "healthcheck/BfdEngine.h"
#include "kmod/IpvsTable.h"
#include "kmod/Model.h"
#include "kmod/Stats.h"

namespace director::status {

struct Snapshot {
    explicit Snapshot(const conf::Config& c) : cfg(c) {}
    const conf::Config& cfg;

    // who, and when
    std::int64_t pid = 0;
    std::string version, dataPlane;
    std::string routerId;                      // global.router_id, else the host name
    std::int64_t now = 0;                      // Unix time the snapshot was taken
    std::int64_t nowMs = 0, agentStartMs = 0;  // steady clock, ms: now, and SNMP's start (up times)
    std::uint64_t reloads = 0, resyncs = 0, driftRepairs = 0, httpRequests = 0;
    std::optional<protocol::SupervisorStatsMsg> director;  // the supervisor's record (none: single process)

    // VRRP, as the vrrp worker reported it
    std::map<std::string, ::vrrp::State> roles;
    std::map<std::string, protocol::InstanceStatus> vrrp;

    // Health: the checks' view with the operator's part (disabled, ramp), and quorum.
    lvs::HealthView health;
    std::map<kmod::ServiceKey, bool> quorumUp;
    // A real server's last change as the checks have it (null: none known).
    std::function<std::optional<lvs::HealthMonitor::Since>(const lvs::RsId&)> since;
    std::map<lvs::RsId, std::int64_t> disabledSince, enabledAt;  // Unix time, by directorctl

    // The plane: its table as applied and its counters (none: not taken, or not known).
    std::optional<kmod::TableState> table;
    std::optional<kmod::TableStatus> status;
    std::vector<std::string> syncDaemons;  // "master daemon on eth0, sync id 5"
    std::optional<kmod::SyncStatus> sync;  // connection sync's counters; none: no sync daemon
    bool syncSendsCounted = true;          // false on the kernel plane (its master counts nothing)
    std::vector<lvs::HealthMonitor::CheckStats> checks;
    std::optional<std::uint64_t> transactions;            // the nftables plane's, since start
    std::optional<kmod::ForwardingCounters> forwarding;   // the userspace plane's budgets
    std::set<kmod::ServiceKey> owned;                     // services this director manages
    std::string syncJson, checksJson;  // the sync manager's and the checks' own JSON (the JSON view only)

    // global.announce
    bool announcing = false;
    int announceTable = 0;
    bool withdrawn = false;
    std::vector<lvs::Announcement> announcements;

    // BFD sessions (bfd checks) and the packets their engine dropped, by reason; none: no engine
    std::vector<healthcheck::BfdEngine::View> bfd;
    std::optional<healthcheck::BfdEngine::Drops> bfdDrops;

    bool process = true;  // /metrics: process_* of this process (/proc/self)
};

// directorctl's rows (and the JSON's) from a snapshot.
StatusReport statusReport(const Snapshot& s);

// The whole state as JSON: `directorctl status --json`, GET /status, SIGUSR1's dump. A snapshot
// taken with its plane (LvsWorker::snapshot(true)).
std::string stateJson(const Snapshot& s);
// The VRRP instances as the vrrp worker reported them (`directorctl vrrp --json`, and in stateJson).
void writeVrrpJson(base::JsonWriter& w, const Snapshot& s);

}  // namespace director::status
