// VrrpWorker: the `vrrp` side of directord (docs/ARCHITECTURE.md, process model): runs the VRRP
// instances (v2 and v3, IPv4 and IPv6, multicast or unicast) and their sync groups over the real
// machine (NetHost), reports each one's role and counters to the lvs worker, and follows reloads
// without moving a VIP that need not move: an instance whose identity (VRID, interface, family,
// version) stays is reconfigured in place, groups and script trackers keep their state. A worker
// that replaces a dead one resumes every instance's last role. Notify scripts run one at a time
// per instance, in the order of its transitions.
#pragma once
#include <map>
#include <memory>

#include "base/Clock.h"
#include "conf/Config.h"
#include "director/Channel.h"
#include "director/CommandRunner.h"
#include "director/Mailer.h"
#include "director/NotifyQueue.h"
#include "director/vrrp/Trackers.h"
#include "healthcheck/Probe.h"
#include "vrrp/Instance.h"
#include "vrrp/Net.h"

namespace director::vrrp {

class VrrpWorker {
public:
    // `resume`: the instances' states when the previous vrrp worker died (empty on a fresh start).
    // `resume`: each instance's state when the worker before this one died; `bfd`: each BFD session as
    // last heard (a restarted worker tracks them from its first moment, not after the first message)
    VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer, std::map<std::string, ::vrrp::State> resume = {},
               const std::map<std::string, bool>& bfd = {});
    void start();
    void reload(conf::Config next);
    void stop();
    CommandRunner& commands() { return *runner_; }
    ~VrrpWorker();

private:
    void announce();
    ::vrrp::Instance& createInstance(const conf::VrrpInstance& v);
    void formGroups();
    void restoreStaticRoutes();
    std::uint64_t routeDeletionsSeen_ = 0;
    void shareVrids();
    // keepalived's conventions: the state's script, then the generic one with
    // "INSTANCE name STATE priority" ("GROUP name STATE 0" for a sync group), and a line on the
    // notify fifo.
    void notify(const conf::NotifyConfig& n, const std::string& kind, const std::string& name, ::vrrp::State to,
                int priority);
    void writeFifo(const std::string& kind, const std::string& name, const std::string& state, int priority);
    NotifyQueue& queueFor(const std::string& key);
    // Every second: each instance's state and counters to the lvs worker, when they changed.
    void publishStats();
    void publishStatus(const ::vrrp::Instance& inst);  // when it changed since last sent
    protocol::InstanceStatus statusOf(const ::vrrp::Instance& inst) const;
    std::set<std::string> scriptUsers() const;

    asio::io_context& io_;
    base::AsioTimerFactory timers_;
    ::vrrp::NetHost host_;
    std::unique_ptr<asio::steady_timer> statsTimer_;
    std::map<std::string, protocol::InstanceStatus> published_;
    std::map<std::string, std::uint64_t> transitions_;
    std::map<std::string, std::int64_t> lastTransition_;  // Unix time of each instance's last transition
    std::map<std::string, std::unique_ptr<::vrrp::InstanceGroup>> groups_;
    conf::Config cfg_;
    Channel& peer_;
    std::map<std::string, std::unique_ptr<::vrrp::Instance>> instances_;
    std::map<std::string, ::vrrp::State> roles_;
    std::map<std::string, ::vrrp::State> resume_;
    // vrrp_startup_delay / vrrp_delay_after_boot: no instance master before then (a fresh start only)
    std::optional<::vrrp::TimePoint> holdUntil_;
    void computeStartupHold();
    std::unique_ptr<ProcessCommandRunner> runner_;
    Mailer mailer_;  // smtp_alert mails (global.smtp)
    bool saidNotFifo_ = false;
    std::map<std::string, std::unique_ptr<NotifyQueue>> queues_;  // never erased: scripts may still run
    int fifo_ = -1;  // the notify fifo, kept open as keepalived does (its reader sees one stream)
    // Every tracker kind (director/vrrp/Trackers.h); an instance's Tracking is their sum.
    void configureTrackers();
    void applyStaticRoutes(const std::vector<conf::VirtualRoute>& before, const std::vector<conf::VirtualRule>& rulesBefore);
    void applyStaticAddresses(const std::vector<conf::VirtualAddress>& before);
    // A static address someone deleted is added back (keepalived's reinstate_static_address).
    void restoreStaticAddresses();
    void applyTracking(const std::string& instance);
    std::vector<std::unique_ptr<TrackerKind>> trackers_;
};

}  // namespace director::vrrp
