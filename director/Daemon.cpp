#include "director/Daemon.h"

#include <pthread.h>

#include <csignal>
#include <memory>

#include "conf/Loader.h"
#include "director/Channel.h"
#include "director/ControlServer.h"
#include "director/LvsWorker.h"
#include "director/Supervisor.h"
#include "director/VrrpWorker.h"
#include "director/base/Log.h"
#include "kmod/IpvsadmFormat.h"

#include <sstream>

namespace director {
namespace {

// Re-reads the config file; on errors logs every diagnostic and returns nullopt.
std::optional<conf::Config> reread(const std::string& file) {
    conf::LoadResult r = conf::loadFile(file);
    if (r.ok()) return std::move(*r.config);
    for (const auto& d : r.diagnostics) base::log::error("reload: ", d.str());
    base::log::error("reload: ", r.diagnostics.size(), " error(s) in ", file,
                     "; keeping the running configuration (fix the file and send SIGHUP again)");
    return std::nullopt;
}

// Installs the signal handlers, then unblocks the signals (a worker is forked with them blocked, so
// one sent while it starts up waits instead of killing it), then starts the components and runs
// `io` until SIGTERM/SIGINT, calling the handlers for SIGHUP and SIGUSR1.
template <class Start, class OnHup, class OnUsr1, class OnStop>
void serveSignals(asio::io_context& io, Start start, OnHup onHup, OnUsr1 onUsr1, OnStop onStop) {
    asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
    signals.add(SIGUSR1);
    sigset_t mine;
    sigemptyset(&mine);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD}) sigaddset(&mine, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &mine, nullptr);
    start();
    std::function<void(const boost::system::error_code&, int)> handler;
    handler = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGTERM || sig == SIGINT) {
            onStop();
            io.stop();
            return;
        }
        if (sig == SIGHUP) onHup();
        if (sig == SIGUSR1) onUsr1();
        signals.async_wait(handler);
    };
    signals.async_wait(handler);
    io.run();
}

// "ipvs-list [stats|rate|thresholds|persistent-conn|tun-info|exact|service PROTO ADDR:PORT|fwmark N 4|6]..."
std::string ipvsList(kmod::IpvsTable& table, std::istringstream& words) {
    kmod::ListOptions o;
    std::string w;
    while (words >> w) {
        if (w == "stats") o.format = kmod::ListFormat::Stats;
        else if (w == "rate") o.format = kmod::ListFormat::Rate;
        else if (w == "thresholds") o.format = kmod::ListFormat::Thresholds;
        else if (w == "persistent-conn") o.format = kmod::ListFormat::PersistentConn;
        else if (w == "tun-info") o.format = kmod::ListFormat::TunInfo;
        else if (w == "exact") o.exact = true;
        else if (w == "service") {
            std::string proto, where;
            words >> proto >> where;
            const auto sa = base::SocketAddress::parse(where);
            if (!sa) return "error: bad service address '" + where + "'\n";
            o.only = kmod::ServiceKey::inet(sa->address, proto == "udp" ? kmod::kUdp : proto == "sctp" ? kmod::kSctp : kmod::kTcp, sa->port);
        } else if (w == "fwmark") {
            std::uint32_t mark = 0;
            int family = 4;
            words >> mark >> family;
            o.only = kmod::ServiceKey::mark(family == 6 ? base::Family::V6 : base::Family::V4, mark);
        } else {
            return "error: unknown list option '" + w + "'\n";
        }
    }
    const auto dump = table.dump();
    if (!dump) return "error: cannot read the " + table.name() + " table: " + dump.error().message() + "\n";
    if (o.only && !dump->services.contains(*o.only)) return "error: No such service\n";
    const auto status = table.status();
    return kmod::formatList(*dump, status ? *status : kmod::TableStatus{}, o);
}

// The control socket's requests.
std::string answer(LvsWorker& worker, const std::string& request) {
    std::istringstream words(request);
    std::string verb;
    words >> verb;
    if (verb == "status") return worker.stateJson() + "\n";
    if (verb == "ipvs-list") return ipvsList(worker.table(), words);
    if (verb == "ipvs-save") {
        const auto dump = worker.table().dump();
        return dump ? kmod::formatSave(*dump) : "error: " + dump.error().message() + "\n";
    }
    if (verb == "ipvs-conns") {
        std::string w;
        const bool persistent = (words >> w) && w == "persistent-conn";
        const auto c = worker.table().connections();
        return c ? kmod::formatConnections(*c, persistent) : "error: " + c.error().message() + "\n";
    }
    if (verb == "ipvs-timeout") {
        const auto t = worker.table().timeouts();
        return t ? kmod::formatTimeouts(*t) : "error: " + t.error().message() + "\n";
    }
    return "error: unknown request '" + request + "' (known: status, ipvs-list, ipvs-save, ipvs-timeout, ipvs-conns)\n";
}

}  // namespace

int runLvsWorker(const conf::Config& cfg, int channelFd) {
    asio::io_context io;
    auto table = makeTable(cfg.global.dataPlane);
    if (!table) return kExitConfig;
    auto channel = std::make_shared<SocketChannel>(io, channelFd);
    LvsWorker worker(io, cfg, std::move(table), *channel);
    ControlServer control(io, cfg.global.controlSocket, [&](const std::string& req) { return answer(worker, req); });
    serveSignals(
        io,
        [&] {
            channel->start();
            worker.start();
            control.start();
        },
        [&] {
            if (auto next = reread(worker.config().file)) worker.reload(std::move(*next));
        },
        [&] { worker.dumpState(); },
        [&] {
            worker.stop();
            control.stop();
        });
    channel->close();
    return 0;
}

int runVrrpWorker(const conf::Config& cfg, int channelFd) {
    asio::io_context io;
    auto channel = std::make_shared<SocketChannel>(io, channelFd);
    VrrpWorker worker(io, cfg, *channel);
    std::string file = cfg.file;
    serveSignals(
        io,
        [&] {
            channel->start();
            worker.start();
        },
        [&] {
            if (auto next = reread(file)) worker.reload(std::move(*next));
        },
        [] {}, [&] { worker.stop(); });
    channel->close();
    return 0;
}

int runSingleProcess(const conf::Config& cfg) {
    asio::io_context io;
    auto table = makeTable(cfg.global.dataPlane);
    if (!table) return 1;
    LocalChannel toLvs(io), toVrrp(io);
    LocalChannel::connect(toLvs, toVrrp);
    VrrpWorker vrrp(io, cfg, toLvs);
    LvsWorker lvs(io, cfg, std::move(table), toVrrp);
    base::log::info("directord starting in one process (pid ", getpid(), ", config ", cfg.file, ")");
    ControlServer control(io, cfg.global.controlSocket, [&](const std::string& req) { return answer(lvs, req); });
    serveSignals(
        io,
        [&] {
            vrrp.start();
            lvs.start();
            control.start();
        },
        [&] {
            base::log::info("reload: SIGHUP: reading ", cfg.file);
            if (auto next = reread(cfg.file)) {
                vrrp.reload(*next);
                lvs.reload(std::move(*next));
            }
        },
        [&] { lvs.dumpState(); },
        [&] {
            lvs.stop();
            vrrp.stop();
            control.stop();
        });
    base::log::info("directord stopped");
    return 0;
}

}  // namespace director
