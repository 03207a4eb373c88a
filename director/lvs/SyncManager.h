// SyncManager: keeps the data plane's connection sync daemons where global.sync_daemon wants them,
// as keepalived's lvs_sync_daemon does (docs/ARCHITECTURE.md, "Sync"):
//   vrrp_instance set   the master daemon while that instance is MASTER, the backup daemon
//                       otherwise (also before the instance has said anything: keepalived starts
//                       the backup daemon at startup); a switch stops the old one, then starts the
//                       new one, as soon as the role message arrives
//   no vrrp_instance    both daemons, all the time
// The same code drives both planes through SyncDaemonControl: the kernel's daemons over netlink,
// or the userspace plane's SyncEngine. It reads what runs before it changes anything, so a
// restarted lvs worker adopts running daemons instead of flapping them, and it checks again every
// second (a daemon stopped by hand, or lost with a restarted forwarding worker, comes back).
// On the kernel plane, which counts nothing, a listener of its own joins the group while the
// backup daemon runs and counts what arrives (messages, entries, drops by reason, with the same
// decoder); the synced connections are counted in /proc/net/ip_vs_conn_sync.
// A daemon is never stopped within 100 ms of its start: kernels up to 6.x answer a DEL_DAEMON that
// races the sync thread's first run with EINTR (the daemon is gone then; treated as stopped).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "base/Json.h"
#include "conf/Config.h"
#include "kmod/IpvsTable.h"
#include "kmod/sync/SyncSocket.h"
#include "vrrp/StateMachine.h"

namespace director::lvs {

class SyncManager {
public:
    SyncManager(asio::io_context& io, kmod::IpvsTable& table);
    // The config at start and after each reload.
    void configure(const conf::SyncDaemonConfig& cfg);
    void setRoles(const std::map<std::string, ::vrrp::State>& roles) { roles_ = roles; }
    void onRole(const std::string& instance, ::vrrp::State state);
    // Reads what runs, then acts; keeps checking every second.
    void start();
    // directord is stopping: the daemons this config asked for are stopped (as keepalived does).
    void stop();
    void writeJson(base::JsonWriter& w) const;
    // What the sync daemons did (none: no daemon here); on the kernel plane, what this worker's
    // own listener heard (the kernel counts nothing it sends).
    std::optional<kmod::SyncStatus> counters() const;
    bool kernelSends() const { return table_.name() == "kernel"; }
    // The daemons the config wants now, defaults resolved where this host can resolve them.
    std::vector<kmod::SyncDaemon> wanted() const;

private:
    void apply(const char* why);
    void schedule(std::chrono::milliseconds after);
    void refreshed(std::function<void()> then);  // once the plane's daemon list is current
    bool matches(const kmod::SyncDaemon& have, const kmod::SyncDaemon& want) const;
    void listen(const std::vector<kmod::SyncDaemon>& running);
    void readListener();

    asio::io_context& io_;
    kmod::IpvsTable& table_;
    conf::SyncDaemonConfig cfg_;
    std::map<std::string, ::vrrp::State> roles_;
    asio::steady_timer timer_;
    bool started_ = false, stopped_ = false, busy_ = false;
    bool warnedNoControl_ = false;
    std::string lastError_;
    std::map<std::uint32_t, std::chrono::steady_clock::time_point> startedAt_;
    std::uint64_t switches_ = 0, repairs_ = 0;
    struct Listener;
    std::unique_ptr<Listener> listener_;  // kernel plane, while its backup daemon runs
    kmod::SyncStatus heard_;              // what the listener counted
    kmod::sync::DropCounts drops_{};

public:
    ~SyncManager();
};

}  // namespace director::lvs
