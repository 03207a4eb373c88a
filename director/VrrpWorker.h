// VrrpWorker: the `vrrp` side of directord (docs/ARCHITECTURE.md, process model): runs the VRRP instances
// (v2 and v3, IPv4 and IPv6, multicast or unicast) and their sync groups, reports each one's role
// and counters to the lvs worker over the channel (status), and follows reloads (changed instances
// restart; unchanged ones keep running).
#pragma once
#include "base/Asio.h"
#include "conf/Config.h"
#include "director/Channel.h"
#include "healthcheck/Probe.h"
#include "vrrp/Instance.h"

#include <map>
#include <memory>

namespace director {

class VrrpWorker {
public:
    VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer);
    void start();
    void reload(conf::Config next);
    void stop();
    ~VrrpWorker();

private:
    void announce();
    void createInstance(const conf::VrrpInstance& v);
    void formGroups();
    // keepalived's conventions: the state's script, then the generic one with
    // "INSTANCE name STATE priority" ("GROUP name STATE 0" for a sync group), and a line on the
    // notify fifo.
    void notify(const conf::NotifyConfig& n, const std::string& kind, const std::string& name, vrrp::State to,
                int priority);
    void writeFifo(const std::string& line);
    // Every second: each instance's state and counters to the lvs worker, when they changed.
    void publishStats();
    protocol::InstanceStatus statusOf(const vrrp::Instance& inst) const;
    std::unique_ptr<asio::steady_timer> statsTimer_;
    std::map<std::string, protocol::InstanceStatus> published_;
    std::map<std::string, std::uint64_t> transitions_;
    std::vector<std::unique_ptr<vrrp::InstanceGroup>> groups_;
    asio::io_context& io_;
    conf::Config cfg_;
    Channel& peer_;
    std::map<std::string, std::unique_ptr<vrrp::Instance>> instances_;
    std::map<std::string, vrrp::State> roles_;
    std::unique_ptr<class ProcessCommandRunner> runner_;
    int fifo_ = -1;  // the notify fifo, kept open as keepalived does (its reader sees one stream)
    // vrrp_scripts: each runs once for all the instances that track it (rise/fall consecutive results)
    struct ScriptTracker {
        conf::VrrpScript cfg;
        std::unique_ptr<asio::steady_timer> timer;
        std::unique_ptr<class healthcheck::Probe> probe;
        bool up = true;
        int streak = 0;  // consecutive results against the current state
    };
    void startScripts();
    void runScript(const std::string& name);
    void applyScripts(const std::string& instance);
    std::map<std::string, ScriptTracker> scripts_;
};

}  // namespace director
