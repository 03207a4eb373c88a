// LvsWorker: the `lvs` side of directord (docs/ARCHITECTURE.md, process model). It owns the data plane
// (IpvsTable) and the health checks (HealthMonitor), turns config x health into the desired table
// (DesiredState: weights, inhibit, quorum and sorry server) and keeps the table there: applies the
// delta when health or the config changes, repairs drift every resync_interval, and on stop
// releases what it created.
// Runs on one io_context (one thread); everything here is called from it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "base/Clock.h"
#include "conf/Config.h"
#include "director/lvs/Announcer.h"
#include "director/lvs/BfdRelay.h"
#include "director/Channel.h"
#include "director/CommandRunner.h"
#include "director/lvs/ControlServer.h"
#include "director/Mailer.h"
#include "director/lvs/HealthMonitor.h"
#include "director/lvs/ProbeFactory.h"
#include "director/lvs/Reconciler.h"
#include "director/lvs/ReloadPlanner.h"
#include "director/lvs/RemotePlane.h"
#include "director/status/SnmpTables.h"
#include "director/status/StatusReport.h"
#include "director/status/StatusServer.h"
#include "director/lvs/OperatorState.h"
#include "director/lvs/Quorum.h"
#include "director/lvs/SyncManager.h"
#include "director/snmp/Agent.h"
#include "kmod/IpvsTable.h"

namespace director::lvs {

class LvsWorker {
public:
    // What the worker acts through; tests pass doubles (manual clock, scripted probes, recorder).
    struct Deps {
        std::unique_ptr<base::TimerFactory> timers;
        std::unique_ptr<ProbeFactory> probes;
        std::unique_ptr<CommandRunner> commands;
    };
    // Production wiring: Asio timers, real probes, real scripts.
    LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer);
    LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer, Deps deps);
    // Where the forwarding worker's reports go (userspace plane in another process).
    void setRemotePlane(RemotePlane* remote) { remote_ = remote; }
    // The VRRP instances' states known when this worker starts (a restarted worker's).
    void setRoles(const std::map<std::string, ::vrrp::State>& roles) {
        vrrpRoles_ = roles;
        sync_.setRoles(roles);
    }
    // What the operator set before this worker started (a restarted worker's, from the supervisor).
    void setOperatorState(const protocol::OperatorMsg& state);
    // Where OperatorMsg, AppliedMsg and ReloadRequestMsg go: by default to the supervisor over the
    // peer channel; --single-process answers them itself.
    void setSupervisor(std::function<void(const protocol::Message&)> send) { toSupervisor_ = std::move(send); }
    // The status front (director/status/StatusFront.h: the HTTP listener and the SNMP subagent): by
    // default behind the supervisor on the peer channel (the status worker); --single-process
    // connects one in the same process.
    void setFront(Channel& front);

    void start();
    // Commits a validated config: only the delta reaches the table.
    void reload(conf::Config next);
    void stop();
    // SIGUSR1: the state as JSON, written atomically to global.state_dump_file.
    void dumpState();
    std::string stateJson() const;
    // The state, taken once, for every view (director/status/Snapshot.h); `plane`: with the table as
    // applied, its counters, sync and checks (traps need none of those).
    status::Snapshot snapshot(bool plane = true) const;
    // What directorctl's tables show (director/status/StatusReport.h).
    status::StatusReport statusReport() const;
    // A control socket request (directorctl, ipvsctl), answered once the plane's counters are current.
    void control(protocol::ControlRequest&& request, ControlServer::Reply reply);
    // A message from the other workers.
    void handle(protocol::Message&& m);

    kmod::IpvsTable& table() { return *table_; }
    CommandRunner& commands() { return *deps_.commands; }
    const HealthMonitor& health() const { return *health_; }
    const conf::Config& config() const { return cfg_; }

private:
    // One reconfigure hook per part, in order (LvsWorker.cpp parts()); reconfigure() runs them all
    // and joins what they changed.
    struct Part {
        const char* name;
        std::function<std::string(const ReloadPlan* plan)> reconfigure;
    };
    std::vector<Part> parts();
    std::string reconfigure(const ReloadPlan* plan);
    void scheduleResync();
    void onRole(const protocol::RoleMsg& role);
    // Health changed for `services`: recompute their part of the desired table (coalesced: once
    // per loop turn for everything asked meanwhile).
    void requestRecompute(const std::set<kmod::ServiceKey>& services);
    // The desired table, all of it or only `only`'s services, applied.
    ReconcileOutcome recompute(const std::set<kmod::ServiceKey>* only = nullptr);
    std::set<kmod::ServiceKey> pendingServices_;
    void updateSuspension();
    // The operator's part of the desired table: disabled real servers and slow starts, for `only`'s
    // services (all with null). Arms the ramp timer while a slow start runs.
    void markOperator(HealthView& view, const std::set<kmod::ServiceKey>* only);
    // Health as the checks have it, plus the operator's part (disables, slow starts) as of now: what
    // the views show (no side effect, unlike markOperator).
    HealthView operatorView() const;
    lvs::OperatorState::UpSince upSince() const;
    void armRamp();
    // directorctl disable / enable.
    protocol::ControlReply disable(const protocol::ControlRequest& request, bool disable);
    void publishOperator();
    std::string pruneDisabled();
    // global.announce: the VIPs this director is ready to serve, as routes (director/lvs/Announcer.h).
    // `force` re-reads the table (start, resync: someone may have deleted a route).
    void announce(bool force = false);
    Announcing announcing_;
    void applied(const std::string& summary);
    lvs::OperatorState operator_;          // directorctl disable / enable / withdraw, slow starts
    std::set<kmod::ServiceKey> ramping_;  // services with a slow start under way
    std::unique_ptr<base::Timer> rampTimer_;
    std::function<void(const protocol::Message&)> toSupervisor_;
    std::map<std::uint64_t, ControlServer::Reply> reloadReplies_;
    std::uint64_t nextReloadId_ = 1;
    std::string lastApplied_;

    // SNMP (director/lvs/LvsWorkerSnmp.cpp): the subagent serves a snapshot rebuilt here when state
    // changed, and every second while someone reads (for the counters); traps follow transitions.
    void configureSnmp();
    void snmpTick();
    void snmpSoon();
    void snmpArm(std::chrono::steady_clock::duration after);
    void snmpPublish();
    // After health or a reload: traps for real servers whose state changed, and for quorum changes.
    void snmpNotice(const std::set<kmod::ServiceKey>* only);
    void snmpRole(const std::string& instance, ::vrrp::State state);
    std::string routerId() const;
    std::string metricsText() const;
    // An HTTP request the status front passed on: its body, built once from the state now.
    void answerStatus(const protocol::StatusRequestMsg& request);
    void onFrontStats(const protocol::FrontStatsMsg& stats);
    void toFront(const protocol::Message& m) { (front_ ? *front_ : peer_).send(m); }
    Channel* front_ = nullptr;
    protocol::FrontStatsMsg frontStats_;
    std::optional<protocol::SupervisorStatsMsg> supervisor_;  // none: --single-process (no supervisor)
    std::chrono::steady_clock::time_point snmpLastRead_{};  // the subagent last answered a request
    bool snmp_ = false;  // global.snmp.enabled: snapshots and traps go to the front
    conf::SnmpConfig snmpConfig_;
    std::unique_ptr<asio::steady_timer> snmpTimer_;
    bool snmpDirty_ = true;
    std::uint64_t snmpGeneration_ = 0;
    std::chrono::steady_clock::duration snmpBuild_{};  // how long the last snapshot took
    std::map<std::pair<kmod::ServiceKey, kmod::DestKey>, bool> snmpRsUp_;
    std::vector<std::pair<kmod::ServiceKey, bool>> quorumChanges_;  // since the last snmpNotice
    std::map<std::string, ::vrrp::State> snmpGroups_;
    bool mibKeepalived_ = false, mibVrrp_ = false, mibVrrpv3_ = false;  // global.snmp.mibs
    std::int64_t snmpStartMs_ = 0;  // steady clock: when SNMP was configured (the agent's sysUpTime)

    asio::io_context& io_;
    conf::Config cfg_;
    std::unique_ptr<kmod::IpvsTable> table_;
    Reconciler reconciler_;
    Deps deps_;
    std::unique_ptr<HealthMonitor> health_;
    lvs::Quorum quorum_;
    bool recomputePending_ = false;
    Channel& peer_;
    asio::steady_timer resyncTimer_;
    std::map<std::string, ::vrrp::State> vrrpRoles_;
    std::map<std::string, protocol::InstanceStatus> vrrpStatus_;  // from the vrrp worker
    RemotePlane* remote_ = nullptr;
    SyncManager sync_;
    Mailer mailer_;  // smtp_alert mails (global.smtp)
    // The BFD sessions VRRP instances track, their state sent to the vrrp worker (BfdRelay.h).
    BfdRelay bfdRelay_;
    std::uint64_t reloads_ = 0;
    std::uint64_t resyncs_ = 0;
    bool stopped_ = false;
};

}  // namespace director::lvs
