// VrrpWorker: the `vrrp` side of directord (DESIGN.md, process model): runs the VRRP instances
// (IPv4, v2 and v3, multicast or unicast), reports each one's role to the lvs worker over the
// channel, and follows reloads (changed instances restart; unchanged ones keep running).
#pragma once
#include "conf/Config.h"
#include "director/Channel.h"
#include "director/base/Asio.h"
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
    void startInstance(const conf::VrrpInstance& v);
    // keepalived's conventions: the state's script, then the generic one with
    // "INSTANCE name STATE priority", and a line on the notify fifo.
    void notify(const conf::VrrpInstance& v, vrrp::State to);
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
