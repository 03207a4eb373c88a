// StatusReport: what `directorctl status`, `vrrp` and `servers` show, as plain rows made from the
// lvs worker's snapshot (director/status/Snapshot.h: statusReport()). The tables are pure functions of it,
// and so is the `servers` JSON; `status --json` is LvsWorker::stateJson(), which embeds the same
// servers rows.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/Json.h"
#include "director/protocol/Messages.h"

namespace director::status {

struct ServerRow {
    std::string rs;
    bool sorry = false;  // the sorry server, in the table while quorum is lost
    bool up = true;
    bool disabled = false;
    std::optional<double> ramp;            // slow start: the share of the weight in force
    long configuredWeight = 0;             // the config's (or the check's dynamic weight)
    std::optional<std::uint32_t> applied;  // in the table with this weight; none: not in it
    std::uint64_t activeConns = 0, inactiveConns = 0;
    std::int64_t since = 0;  // Unix time of its last change (state, disable, enable)
    std::string why;         // that change's reason
    int checks = 0, failedChecks = 0;
    std::optional<double> checkLatencyMs;  // its checks' last attempts, the slowest (none: not run)
};

struct ServiceRow {
    std::string vs;
    std::string scheduler, forwarding;
    bool quorumUp = true;
    long liveWeight = 0;
    int quorum = 0;
    std::uint64_t activeConns = 0, inactiveConns = 0, connections = 0;
    std::vector<ServerRow> servers;  // in config order; the sorry server last, while in use
};

struct InstanceRow {
    std::string name;
    std::optional<protocol::InstanceStatus> status;  // none: the vrrp worker has not reported it yet
    std::string role;                                // the last role message's state
};

struct AnnounceRow {
    std::string vip;
    bool announced = false;
    std::string why;
};

struct BfdRow {
    std::string name, neighbor, state, remoteState, diag;
    double txMs = 0, detectMs = 0;
};

struct StatusReport {
    std::int64_t pid = 0;
    std::string version, configFile, dataPlane;
    std::uint64_t reloads = 0, resyncs = 0, driftRepairs = 0;
    std::int64_t now = 0;  // Unix time the report was made
    std::vector<InstanceRow> instances;
    std::vector<ServiceRow> services;
    std::vector<std::string> syncDaemons;  // "master on eth0, sync id 5"
    bool announcing = false;               // global.announce is on
    int announceTable = 0;
    bool withdrawn = false;
    std::vector<AnnounceRow> announcements;
    std::vector<BfdRow> bfd;
    std::uint64_t bfdDropped = 0;  // BFD packets dropped (bad, or no session's), all reasons
};

// `directorctl status`: who, what plane, the instances and the services in one screen each.
std::string renderStatus(const StatusReport& r);
// `directorctl vrrp`: one row per instance.
std::string renderVrrp(const StatusReport& r);
// `directorctl servers`: one row per real server, under its virtual server.
std::string renderServers(const StatusReport& r);
// The servers rows as JSON (an array of services, each with its real servers).
void writeServersJson(base::JsonWriter& w, const StatusReport& r);

// "2026-12-04 16:40:57 (5m12s)": a Unix time in local time, with its age at `now`.
std::string sinceText(std::int64_t when, std::int64_t now);

}  // namespace director::status
