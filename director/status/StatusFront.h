// StatusFront: what directord shows to the network about itself, apart from the protocols it
// speaks: the HTTP listener on global.status.listen (/status, /metrics, and the status page at /,
// built in: director/status/StatusPage.h) and the AgentX subagent
// (global.snmp). It runs in the status worker, which keeps no capability but binding a low port
// and writes no file (director/Privileges.h), so a bug in the HTTP parser or in net-snmp cannot
// write the IPVS table, run a program or change the system. It holds no state of its own:
//   - an HTTP request is parsed here, and only its path goes to the lvs worker (StatusRequestMsg);
//     the body comes back built once for that request (StatusReplyMsg). No answer within 4 s
//     (the lvs worker restarting) is a 503.
//   - the lvs worker pushes MIB snapshots (MibMsg) and traps (TrapMsg); the subagent serves the
//     newest snapshot and forwards the traps.
//   - what the lvs worker shows about the front (requests served, when SNMP was last read, which
//     sets how often it rebuilds the snapshot) comes back in FrontStatsMsg, when it changes.
// In --single-process mode it runs on the one loop, over a LocalChannel.
#pragma once
#include <map>
#include <memory>

#include "base/Asio.h"
#include "conf/Config.h"
#include "director/Channel.h"
#include "director/status/StatusServer.h"
#include "director/snmp/Agent.h"

namespace director::status {

class StatusFront {
public:
    static constexpr std::chrono::seconds kAnswerTimeout{4};
    StatusFront(asio::io_context& io, const conf::Config& cfg, Channel& lvs);
    ~StatusFront();
    StatusFront(const StatusFront&) = delete;
    StatusFront& operator=(const StatusFront&) = delete;

    void start();
    void reload(const conf::Config& cfg);
    // Stops listening; the subagent stays up `linger` more to send the traps of the stop.
    void stop();
    void handle(protocol::Message&& m);

private:
    void configure();
    void ask(const std::string& path, StatusServer::Done done);
    void report(bool fresh);
    void armReport();

    asio::io_context& io_;
    conf::Config cfg_;  // global only
    Channel& lvs_;
    std::unique_ptr<StatusServer> http_;
    std::unique_ptr<snmp::Agent> agent_;
    conf::SnmpConfig agentConfig_;
    struct Pending {
        StatusServer::Done done;
        std::unique_ptr<asio::steady_timer> timer;
    };
    std::map<std::uint64_t, Pending> pending_;
    std::uint64_t nextId_ = 1;
    asio::steady_timer reportTimer_;
    protocol::FrontStatsMsg said_;
    bool saidOnce_ = false;
    bool stopped_ = false;
};

}  // namespace director::status
