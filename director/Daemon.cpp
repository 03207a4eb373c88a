#include "director/Daemon.h"

#include <pthread.h>

#include <csignal>
#include <memory>

#include "base/Log.h"
#include "conf/Loader.h"
#include "director/Channel.h"
#include "director/ControlServer.h"
#include "director/LvsWorker.h"
#include "director/RemotePlane.h"
#include "director/VrrpWorker.h"
#include "kmod/userspace/Forwarder.h"
#include "kmod/userspace/UserspaceIpvsTable.h"

namespace director {
namespace {

// How long a stopping worker lets the scripts its stop started (omega notify_down / quorum_down,
// VRRP stop notifies) run; within the supervisor's 15 s before it kills a worker.
constexpr std::chrono::milliseconds kScriptsAtStop{10000};

// Installs the signal handlers, then unblocks the signals (a worker is forked with them blocked, so
// one sent while it starts up waits instead of killing it), then starts the components and runs
// `io` until SIGTERM/SIGINT, calling the handlers for SIGHUP and SIGUSR1. onStop(finish) calls
// finish once it is done (the loop runs until then).
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
            onStop([&io] { io.stop(); });  // when what the stop started (omega scripts) is done
            return;
        }
        if (sig == SIGHUP) onHup();
        if (sig == SIGUSR1) onUsr1();
        signals.async_wait(handler);
    };
    signals.async_wait(handler);
    io.run();
}

// A worker reloads when the supervisor sends it the new config; a SIGHUP sent to a worker itself
// changes nothing.
void hupToWorker() {
    base::log::notice("reload: a worker got SIGHUP; reloading is the supervisor's job: send SIGHUP to it (pid ",
                      ::getppid(), ")");
}

std::optional<kmod::PlaneTable> lastTable(const WorkerContext& ctx) {
    if (!ctx.table) return std::nullopt;
    auto m = protocol::decode(protocol::Frame{protocol::typeOf<protocol::TableMsg>(), *ctx.table});
    if (!m) {
        base::log::error("the supervisor's last table does not decode; starting from an empty one");
        return std::nullopt;
    }
    return std::move(std::get<protocol::TableMsg>(*m).table);
}

}  // namespace

int runLvsWorker(const WorkerContext& ctx) {
    asio::io_context io;
    auto channel = std::make_shared<SocketChannel>(io, ctx.fd);
    RemotePlane* remote = nullptr;
    std::unique_ptr<kmod::PlaneLink> link;
    if (ctx.plane == conf::DataPlane::Userspace) {
        auto r = std::make_unique<RemotePlane>(io, *channel);
        remote = r.get();
        link = std::move(r);
    }
    auto table = makeTable(ctx.plane, std::move(link));
    if (!table) return kExitConfig;
    if (ctx.plane == conf::DataPlane::Userspace)
        if (auto t = lastTable(ctx)) {
            static_cast<kmod::UserspaceIpvsTable&>(*table).adopt(*t);
            base::log::info("lvs: took over the forwarding worker's table (", t->services.size(), " services)");
        }
    LvsWorker worker(io, ctx.config, std::move(table), *channel);
    worker.setRemotePlane(remote);
    worker.setRoles(ctx.roles);
    ControlServer control(io, ctx.config.global.controlSocket,
                          [&](protocol::ControlRequest&& req, ControlServer::Reply reply) {
                              worker.control(std::move(req), std::move(reply));
                          });
    serveSignals(
        io,
        [&] {
            channel->start();
            worker.start();
            control.start();
        },
        hupToWorker, [&] { worker.dumpState(); },
        [&](std::function<void()> finish) {
            worker.stop();
            control.stop();
            afterCommands(io, worker.commands(), kScriptsAtStop, std::move(finish));
        });
    channel->close();
    return 0;
}

int runVrrpWorker(const WorkerContext& ctx) {
    asio::io_context io;
    auto channel = std::make_shared<SocketChannel>(io, ctx.fd);
    VrrpWorker worker(io, ctx.config, *channel, ctx.roles);
    serveSignals(
        io,
        [&] {
            channel->start();
            worker.start();
        },
        hupToWorker, [] {},
        [&](std::function<void()> finish) {
            worker.stop();
            afterCommands(io, worker.commands(), kScriptsAtStop, std::move(finish));
        });
    channel->close();
    return 0;
}

// The userspace plane's forwarding: a Forwarder fed by the lvs worker's tables, answering its
// questions about counters and connections. It keeps forwarding while the lvs worker restarts.
int runForwardingWorker(const WorkerContext& ctx) {
    asio::io_context io;
    auto channel = std::make_shared<SocketChannel>(io, ctx.fd);
    kmod::Forwarder forwarder;
    if (auto t = lastTable(ctx)) {
        forwarder.load(*t);
        base::log::info("fwd: forwarding the last table again (", t->services.size(), " services)");
    }
    channel->onMessage([&](protocol::Message&& m) {
        if (auto* t = std::get_if<protocol::TableMsg>(&m)) return forwarder.load(t->table);
        if (auto* q = std::get_if<protocol::PlaneQueryMsg>(&m)) {
            protocol::PlaneReportMsg r;
            r.id = q->id;
            r.status = forwarder.status();
            if (q->connections) r.connections = forwarder.connections();
            r.daemons = forwarder.syncDaemons();
            r.sync = forwarder.syncStatus();
            r.forwarding = forwarder.forwarding();
            return channel->send(r);
        }
        if (auto* z = std::get_if<protocol::PlaneZeroMsg>(&m)) return forwarder.zero(z->only);
        if (auto* d = std::get_if<protocol::PlaneDaemonMsg>(&m)) {
            const char* what = d->daemon.state == kmod::SyncDaemon::kMaster ? "master" : "backup";
            const auto ec = d->start ? forwarder.startSync(d->daemon) : forwarder.stopSync(d->daemon.state);
            if (ec)
                base::log::error("fwd: cannot ", d->start ? "start" : "stop", " the ", what, " sync daemon",
                                 d->start ? " on " + d->daemon.interface : std::string(), ": ", ec.message());
            protocol::PlaneReportMsg r;
            r.daemons = forwarder.syncDaemons();
            r.sync = forwarder.syncStatus();
            r.daemonError = ec.value();
            return channel->send(r);
        }
    });
    serveSignals(
        io, [&] { channel->start(); }, hupToWorker, [] {}, [](std::function<void()> finish) { finish(); });
    channel->close();
    return 0;
}

int runSingleProcess(const conf::Config& initial, conf::DataPlane plane) {
    conf::Config cfg = initial;
    asio::io_context io;
    auto table = makeTable(plane);
    if (!table) return 1;
    LocalChannel toLvs(io), toVrrp(io);
    LocalChannel::connect(toLvs, toVrrp);
    VrrpWorker vrrp(io, cfg, toLvs);
    LvsWorker lvs(io, cfg, std::move(table), toVrrp);
    base::log::info("directord starting in one process (pid ", getpid(), ", config ", cfg.file, ")");
    ControlServer control(io, cfg.global.controlSocket,
                          [&](protocol::ControlRequest&& req, ControlServer::Reply reply) {
                              lvs.control(std::move(req), std::move(reply));
                          });
    serveSignals(
        io,
        [&] {
            vrrp.start();
            lvs.start();
            control.start();
        },
        [&] {
            base::log::info("reload: SIGHUP: reading ", cfg.file);
            conf::LoadResult next = conf::loadFile(cfg.file);
            if (!next.ok()) {
                for (const auto& d : next.diagnostics) base::log::error("reload: ", d.str());
                base::log::error("reload: ", next.diagnostics.size(), " error(s) in ", cfg.file,
                                 "; keeping the running configuration (fix the file and send SIGHUP again)");
                return;
            }
            if (conf::definesNothing(*next.config) && !conf::definesNothing(cfg) && !next.config->global.allowEmpty) {
                base::log::error("reload: ", cfg.file,
                                 " defines no virtual servers and no VRRP instances (empty, or cut short?); keeping"
                                 " the running configuration. To really remove everything, set global.allow_empty"
                                 " = true");
                return;
            }
            cfg = *next.config;
            vrrp.reload(*next.config);
            lvs.reload(std::move(*next.config));
        },
        [&] { lvs.dumpState(); },
        [&](std::function<void()> finish) {
            lvs.stop();
            vrrp.stop();
            control.stop();
            afterCommands(io, lvs.commands(), kScriptsAtStop, [&io, &vrrp, finish = std::move(finish)]() mutable {
                afterCommands(io, vrrp.commands(), kScriptsAtStop, std::move(finish));
            });
        });
    base::log::info("directord stopped");
    return 0;
}

}  // namespace director
