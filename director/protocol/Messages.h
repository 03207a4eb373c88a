// The typed messages between directord's processes (docs/ARCHITECTURE.md, "Protocol"): one struct
// per message, one encoder and one decoder for all of them (Messages.cpp), tested by round trip.
// Nothing builds or splits protocol strings at the call site.
//
//   supervisor -> every worker   ConfigMsg        the validated config after a reload
//   vrrp -> lvs, fwd             RoleMsg          an instance's state changed (sync, ha_suspend)
//   vrrp -> lvs                  InstanceStatusMsg an instance's state and counters (status, SNMP)
//   lvs -> fwd                   TableMsg         the userspace plane's whole table
//   lvs -> fwd                   PlaneQueryMsg    asks for counters (and connections)
//   fwd -> lvs                   PlaneReportMsg   the answer
//   lvs -> fwd                   PlaneZeroMsg     ipvsadm -Z
//   lvs -> fwd                   PlaneDaemonMsg   start or stop a sync daemon (answered by a report)
//   lvs -> supervisor            OperatorMsg      what the operator set: disabled real servers, withdrawn
//   lvs -> supervisor            ReloadRequestMsg directorctl reload: read and check the file, apply it
//   supervisor -> lvs            ReloadResultMsg  its outcome (after the ConfigMsg, when there is one)
//   lvs -> supervisor            AppliedMsg       a config is in force (start, reload): systemd READY=1
//   every worker -> supervisor   HeartbeatMsg     every second while systemd's watchdog is on
//   status -> lvs                StatusRequestMsg an HTTP client asks for a path (/status, /metrics)
//   lvs -> status                StatusReplyMsg   its body, built once for this request
//   lvs -> status                MibMsg           the objects the SNMP subagent serves, a new snapshot
//   lvs -> status                TrapMsg          a notification for the subagent to send
//   status -> lvs                FrontStatsMsg    requests served, the subagent's link (on change)
//   lvs -> vrrp                  BfdStateMsg      a BFD session instances track is Up or not (it runs them)
// The supervisor routes them by type (routeOf), remembers the last RoleMsg of every instance,
// the last TableMsg, the last OperatorMsg and the last BfdStateMsg of every session, and hands
// those to a worker it restarts.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "conf/Config.h"
#include "director/snmp/MibTree.h"
#include "director/protocol/Frame.h"
#include "kmod/IpvsTable.h"
#include "kmod/userspace/PlaneTable.h"
#include "vrrp/Packet.h"
#include "vrrp/StateMachine.h"

namespace director::protocol {

struct ConfigMsg {
    conf::Config config;
};

struct RoleMsg {
    std::string instance;
    ::vrrp::State state = ::vrrp::State::Init;
    bool operator==(const RoleMsg&) const = default;
};

// One VRRP instance as the vrrp worker sees it.
struct InstanceStatus {
    std::string name;
    ::vrrp::State state = ::vrrp::State::Init;
    std::string interface;
    int vrid = 0, version = 0;
    base::Family family = base::Family::V4;
    int priority = 0, effectivePriority = 0;
    std::optional<base::IpAddress> masterSeen;  // the last master heard from (none while we are master)
    std::string syncGroup;
    std::uint64_t advertsSent = 0, advertsReceived = 0, announcementsSent = 0, transitions = 0;
    std::array<std::uint64_t, static_cast<size_t>(::vrrp::Drop::Count_)> drops{};
    // For the VRRP MIBs: the link (index, MAC, primary address), the address adverts go from,
    // master transitions and why the last one happened, priority 0 adverts, the last protocol
    // error, and since when (steady clock, ms; 0: not) the instance is out of INIT.
    int ifindex = 0;
    std::array<std::uint8_t, 6> mac{};
    std::optional<base::IpAddress> primary, source;
    std::uint64_t masterTransitions = 0;
    int masterReason = 0;
    std::uint64_t priorityZeroSent = 0, priorityZeroReceived = 0;
    // other hosts' ARP claims of its addresses heard as master, and its answers (garp defend)
    std::uint64_t claimsHeard = 0, claimsAnswered = 0;
    int protocolErrorReason = 0;
    std::int64_t upSinceMs = 0;
    std::int64_t lastTransition = 0;  // Unix time of its last state change (0: none yet)
    // The vrrp_scripts it tracks, as KEEPALIVED-MIB's vrrpScriptResult: 1 not run yet, 2 failing,
    // 3 succeeding (rise and fall applied).
    std::map<std::string, int> scripts;
    bool operator==(const InstanceStatus&) const = default;
};

struct InstanceStatusMsg {
    InstanceStatus status;
};

struct TableMsg {
    kmod::userspace::PlaneTable table;
};

// The forwarding worker's persistence templates (their bindings), sent to the supervisor when they
// change (at most every second; less often for big sets) and handed to the worker that replaces
// it, so a forwarding worker's death does not send persistent clients to new real servers.
struct TemplatesMsg {
    std::vector<kmod::userspace::KeptTemplate> templates;
};

struct PlaneQueryMsg {
    std::uint64_t id = 0;
    bool connections = false;
};

// id 0: unasked, after a PlaneDaemonMsg (daemons and sync only; status and connections empty).
struct PlaneReportMsg {
    std::uint64_t id = 0;
    kmod::TableStatus status;
    std::vector<kmod::ConnEntry> connections;
    std::vector<kmod::SyncDaemon> daemons;
    std::optional<kmod::SyncStatus> sync;
    std::int32_t daemonError = 0;  // the errno of the last PlaneDaemonMsg (0: done)
    kmod::ForwardingCounters forwarding;
};

struct PlaneZeroMsg {
    std::optional<kmod::ServiceKey> only;
};

struct PlaneDaemonMsg {
    bool start = true;  // false: stop the daemon in daemon.state
    kmod::SyncDaemon daemon;
};

// A real server the operator disabled (directorctl disable), and since when (Unix time).
struct DisabledServer {
    kmod::ServiceKey service;
    kmod::DestKey dest;
    std::int64_t since = 0;
    bool operator==(const DisabledServer&) const = default;
};

// The operator's state (director/lvs/OperatorState.h), all of it: the supervisor hands it to a
// restarted lvs worker.
struct OperatorMsg {
    std::vector<DisabledServer> disabled;
    bool withdrawn = false;  // directorctl withdraw: the whole director (its announced VIPs withdrawn)
};

struct ReloadRequestMsg {
    std::uint64_t id = 0;
};

struct ReloadResultMsg {
    std::uint64_t id = 0;
    bool applied = false;
    std::vector<std::string> errors;  // file:line: path: message, then what was kept
};

struct AppliedMsg {
    std::string summary;  // what changed, for systemd's STATUS=
};

struct HeartbeatMsg {
    std::uint64_t seq = 0;
};

// The status worker (director/status/StatusFront.h) and the lvs worker. A request's path is one of the
// listener's paths: the lvs worker answers any other with found = false (404).
struct StatusRequestMsg {
    std::uint64_t id = 0;
    std::string path;
};

struct StatusReplyMsg {
    std::uint64_t id = 0;
    bool found = false;
    std::string contentType;
    std::string body;
};

struct MibMsg {
    std::map<snmp::Oid, snmp::Value> objects;
};

struct TrapMsg {
    snmp::Trap trap;
};

struct FrontStatsMsg {
    bool fresh = false;             // the status worker just started: it has no snapshot yet
    std::uint64_t httpRequests = 0;
    std::uint64_t snmpRequests = 0;
    std::uint64_t trapsSent = 0;
    std::int64_t snmpIdleMs = -1;   // since the subagent last answered a request; -1: never
    bool agentConnected = false;
};

// A BFD session's state as VRRP tracking counts it: Up, or not (after its start-up allowance).
struct BfdStateMsg {
    std::string name;
    bool up = false;
    bool operator==(const BfdStateMsg&) const = default;
};

// The supervisor's own record, which no worker has: when the director started, its reloads that
// failed, and each worker's restarts. Sent to the lvs worker (status, /metrics) when it starts and
// whenever one of these changes; a restarted lvs worker starts from it.
struct WorkerRecord {
    std::string name;
    std::uint64_t restarts = 0;  // since the director started (kill -9, crash, hang)
    std::int64_t startedAt = 0;  // Unix time its current process started (0: not running)
    bool operator==(const WorkerRecord&) const = default;
};
struct SupervisorStatsMsg {
    std::int64_t startedAt = 0;          // Unix time
    std::uint64_t reloadFailures = 0;    // reloads refused (a bad file; a change that needs a restart)
    std::int64_t lastReloadAt = 0;       // Unix time of the last reload tried (0: none)
    bool lastReloadOk = true;
    std::string lastReloadError;         // its first error, when it failed
    std::vector<WorkerRecord> workers;
    bool operator==(const SupervisorStatsMsg&) const = default;
};

using Message =
    std::variant<ConfigMsg, RoleMsg, InstanceStatusMsg, TableMsg, PlaneQueryMsg, PlaneReportMsg, PlaneZeroMsg,
                 PlaneDaemonMsg, OperatorMsg, ReloadRequestMsg, ReloadResultMsg, AppliedMsg, HeartbeatMsg,
                 StatusRequestMsg, StatusReplyMsg, MibMsg, TrapMsg, FrontStatsMsg, BfdStateMsg, SupervisorStatsMsg,
                 TemplatesMsg>;

// The frame type of each message: its index in Message, plus one.
inline std::uint8_t typeOf(const Message& m) { return static_cast<std::uint8_t>(m.index() + 1); }
namespace detail {
template <class M, class... Ts>
constexpr size_t indexIn(std::variant<Ts...>*) {
    size_t i = 0;
    const bool found = ((std::is_same_v<M, Ts> ? true : (++i, false)) || ...);
    return found ? i : sizeof...(Ts);
}
}  // namespace detail
template <class M>
constexpr std::uint8_t typeOf() {
    constexpr size_t i = detail::indexIn<M>(static_cast<Message*>(nullptr));
    static_assert(i < std::variant_size_v<Message>, "not a Message");
    return static_cast<std::uint8_t>(i + 1);
}

// The whole frame for `m`.
std::string encode(const Message& m);
// nullopt for an unknown type or a payload that is not exactly one message of it.
std::optional<Message> decode(const Frame& f);

// Where the supervisor sends a message that came from a worker.
struct Route {
    bool lvs = false, vrrp = false, fwd = false, status = false;
};
Route routeOf(std::uint8_t type);

}  // namespace director::protocol
