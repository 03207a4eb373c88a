// Agent: an AgentX subagent (net-snmp) on a thread of its own, so no SNMP call (connecting, the
// master's pings, answering) ever runs on a worker's event loop. The loop publishes MibTree
// snapshots and queues traps; the thread answers GET/GETNEXT/GETBULK from the newest snapshot under
// the registered roots, forwards traps to the master, and reconnects to it (net-snmp retries every
// ping interval) when snmpd restarts. Connection changes are logged once each.
//
// net-snmp is not thread-safe: every net-snmp call happens on the agent's thread. One Agent per
// process.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "director/snmp/MibTree.h"

namespace snmp {

struct AgentOptions {
    std::string name = "directord";
    std::string socket;            // net-snmp address of the AgentX master ("unix:/path", "tcp:h:p", "/path")
    std::vector<Oid> roots;        // subtrees served
    std::chrono::seconds pingInterval{5};  // how often a lost master is tried again (and pinged)
};

class Agent {
public:
    explicit Agent(AgentOptions options);
    ~Agent();  // stops the thread, closes the session
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void publish(std::shared_ptr<const MibTree> tree);
    void trap(Trap t);
    bool connected() const { return connected_.load(); }
    // When a request was last answered (steady clock; epoch if never): the loop refreshes
    // counters only while someone is reading.
    std::chrono::steady_clock::time_point lastRequest() const;
    std::uint64_t requests() const { return requests_.load(); }
    std::uint64_t trapsSent() const { return trapsSent_.load(); }

private:
    void run();
    void wake();
    void linked(bool up);  // the agent's thread: the session to the master came or went
    std::shared_ptr<const MibTree> tree() const;
    friend struct AgentAccess;

    AgentOptions options_;
    mutable std::mutex mu_;
    std::shared_ptr<const MibTree> tree_;
    std::deque<Trap> traps_;
    int wakeFd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> connected_{false};
    bool said_ = false;  // the agent's thread only
    std::atomic<std::int64_t> lastRequestNs_{0};
    std::atomic<std::uint64_t> requests_{0}, trapsSent_{0};
    std::thread thread_;
};

}  // namespace snmp
