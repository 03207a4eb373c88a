// LvsWorker: the `lvs` side of directord (DESIGN.md, process model). It owns the data plane
// (IpvsTable), turns the config into the desired table and keeps the table there: applies the delta
// on reload, repairs drift every resync_interval, and on stop releases what it created.
// Checkers, sync and the userspace data plane join it with later issues.
// Runs on one io_context (one thread); everything here is called from it.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "conf/Config.h"
#include "director/Channel.h"
#include "director/Reconciler.h"
#include "director/base/Asio.h"
#include "kmod/IpvsTable.h"

namespace director {

// Picks the data plane the config asks for. Returns null (after logging why) when it cannot.
std::unique_ptr<kmod::IpvsTable> makeTable(conf::DataPlane plane);

class LvsWorker {
public:
    LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer);

    void start();
    // Commits a validated config: only the delta reaches the table.
    void reload(conf::Config next);
    void stop();
    // SIGUSR1: the state as JSON, written atomically to global.state_dump_file.
    void dumpState();
    std::string stateJson() const;

    kmod::IpvsTable& table() { return *table_; }
    const conf::Config& config() const { return cfg_; }

private:
    void applyTimeouts();
    void scheduleResync();
    void onPeerLine(const std::string& line);

    asio::io_context& io_;
    conf::Config cfg_;
    std::unique_ptr<kmod::IpvsTable> table_;
    Reconciler reconciler_;
    Channel& peer_;
    asio::steady_timer resyncTimer_;
    std::map<std::string, std::string> vrrpRoles_;
    std::uint64_t reloads_ = 0;
    std::uint64_t resyncs_ = 0;
    bool stopped_ = false;
};

}  // namespace director
