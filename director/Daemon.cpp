#include "director/Daemon.h"

#include <pthread.h>

#include <csignal>
#include <memory>

#include "base/Log.h"
#include "director/Channel.h"
#include "director/fwd/PlaneService.h"
#include "director/lvs/ControlServer.h"
#include "director/lvs/LvsWorker.h"
#include "director/lvs/Planes.h"
#include "director/ReloadCheck.h"
#include "director/status/StatusFront.h"
#include "director/lvs/RemotePlane.h"
#include "director/SystemdNotify.h"
#include "director/vrrp/VrrpWorker.h"
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

// While systemd's watchdog is on, a worker tells the supervisor every `period` seconds that its
// loop turns; a worker whose loop is stuck says nothing and is restarted.
class Heartbeat {
public:
    Heartbeat(asio::io_context& io, Channel& channel, double period) : timer_(io), channel_(channel), period_(period) {}
    void start() {
        if (period_ <= 0) return;
        timer_.expires_after(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(period_)));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            channel_.send(protocol::HeartbeatMsg{++seq_});
            start();
        });
    }
    void stop() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
    Channel& channel_;
    double period_;
    std::uint64_t seq_ = 0;
};

std::optional<kmod::userspace::PlaneTable> lastTable(const WorkerContext& ctx) {
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
    lvs::RemotePlane* remote = nullptr;
    std::unique_ptr<kmod::userspace::PlaneLink> link;
    if (ctx.plane == conf::DataPlane::Userspace) {
        auto r = std::make_unique<lvs::RemotePlane>(io, *channel);
        remote = r.get();
        link = std::move(r);
    }
    auto table = lvs::makeTable(ctx.plane, ctx.config, std::move(link));
    if (!table) return kExitConfig;
    if (ctx.plane == conf::DataPlane::Userspace)
        if (auto t = lastTable(ctx)) {
            static_cast<kmod::userspace::UserspaceIpvsTable&>(*table).adopt(*t);
            base::log::info("lvs: took over the forwarding worker's table (", t->services.size(), " services)");
        }
    lvs::LvsWorker worker(io, ctx.config, std::move(table), *channel);
    worker.setRemotePlane(remote);
    worker.setRoles(ctx.roles);
    worker.setOperatorState(ctx.operatorState);
    Heartbeat beat(io, *channel, ctx.heartbeat);
    lvs::ControlServer control(io, ctx.config.global.controlSocket,
                          [&](protocol::ControlRequest&& req, lvs::ControlServer::Reply reply) {
                              worker.control(std::move(req), std::move(reply));
                          });
    serveSignals(
        io,
        [&] {
            channel->start();
            // listening before the worker applies the config: its AppliedMsg is systemd's READY=1,
            // after which a client may connect at once (its request is served once start() returns)
            control.start();
            worker.start();
            beat.start();
        },
        hupToWorker, [&] { worker.dumpState(); },
        [&](std::function<void()> finish) {
            beat.stop();
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
    vrrp::VrrpWorker worker(io, ctx.config, *channel, ctx.roles, ctx.bfdStates);
    Heartbeat beat(io, *channel, ctx.heartbeat);
    serveSignals(
        io,
        [&] {
            channel->start();
            worker.start();
            beat.start();
        },
        hupToWorker, [] {},
        [&](std::function<void()> finish) {
            beat.stop();
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
    kmod::userspace::Forwarder forwarder;
    if (auto t = lastTable(ctx)) {
        forwarder.load(*t);
        base::log::info("fwd: forwarding the last table again (", t->services.size(), " services)");
        if (ctx.templates) {
            auto m = protocol::decode(protocol::Frame{protocol::typeOf<protocol::TemplatesMsg>(), *ctx.templates});
            if (!m) base::log::error("fwd: the supervisor's copy of the persistence templates does not decode");
            else {
                const auto& kept = std::get<protocol::TemplatesMsg>(*m).templates;
                base::log::info("fwd: restored ", forwarder.restoreTemplates(kept), " of ", kept.size(),
                                " persistence templates (persistent clients keep their real servers)");
            }
        }
    }
    channel->onMessage([&](protocol::Message&& m) { fwd::serve(forwarder, *channel, std::move(m)); });
    Heartbeat beat(io, *channel, ctx.heartbeat);
    fwd::TemplateCopy copy(io, forwarder, *channel);
    serveSignals(
        io,
        [&] {
            channel->start();
            beat.start();
            copy.start();
        },
        hupToWorker, [] {},
        [&](std::function<void()> finish) {
            beat.stop();
            copy.stop();
            finish();
        });
    channel->close();
    return 0;
}

// The status front (director/status/StatusFront.h): the HTTP status listener and the SNMP subagent, with
// none of the lvs worker's privileges; everything it serves comes from the lvs worker.
int runStatusWorker(const WorkerContext& ctx) {
    asio::io_context io;
    auto channel = std::make_shared<SocketChannel>(io, ctx.fd);
    status::StatusFront front(io, ctx.config, *channel);
    Heartbeat beat(io, *channel, ctx.heartbeat);
    asio::steady_timer linger(io);
    serveSignals(
        io,
        [&] {
            channel->start();
            front.start();
            beat.start();
        },
        hupToWorker, [] {},
        [&](std::function<void()> finish) {
            beat.stop();
            // the traps of the stop (the lvs worker stops at the same time) still go out
            linger.expires_after(std::chrono::milliseconds(500));
            linger.async_wait([&front, finish = std::move(finish)](const boost::system::error_code&) {
                front.stop();
                finish();
            });
        });
    channel->close();
    return 0;
}

int runSingleProcess(const conf::Config& initial, conf::DataPlane plane) {
    conf::Config cfg = initial;
    SystemdNotify systemd;
    asio::io_context io;
    auto table = lvs::makeTable(plane, cfg);
    if (!table) return 1;
    LocalChannel toLvs(io), toVrrp(io), frontToLvs(io), lvsToFront(io);
    LocalChannel::connect(toLvs, toVrrp);
    LocalChannel::connect(frontToLvs, lvsToFront);
    vrrp::VrrpWorker vrrp(io, cfg, toLvs);
    lvs::LvsWorker lvs(io, cfg, std::move(table), toVrrp);
    status::StatusFront front(io, cfg, frontToLvs);
    lvs.setFront(lvsToFront);
    base::log::info("directord starting in one process (pid ", getpid(), ", config ", cfg.file, ")");
    lvs::ControlServer control(io, cfg.global.controlSocket,
                          [&](protocol::ControlRequest&& req, lvs::ControlServer::Reply reply) {
                              lvs.control(std::move(req), std::move(reply));
                          });
    // What the lvs worker would tell a supervisor: handled here.
    auto reload = [&](const char* why) {
        systemd.reloading();
        base::log::info("reload: ", why, ": reading ", cfg.file);
        ReloadCheck check = checkReload(cfg, plane);
        if (!check.config) {
            for (const auto& e : check.errors) base::log::error("reload: ", e);
            systemd.ready("reload refused: " + check.errors.back());
            return protocol::ReloadResultMsg{0, false, std::move(check.errors)};
        }
        cfg = *check.config;
        front.reload(*check.config);
        vrrp.reload(*check.config);
        lvs.reload(std::move(*check.config));  // says AppliedMsg: READY=1
        return protocol::ReloadResultMsg{0, true, {}};
    };
    lvs.setSupervisor([&](const protocol::Message& m) {
        if (auto* a = std::get_if<protocol::AppliedMsg>(&m)) systemd.ready(a->summary);
        if (auto* r = std::get_if<protocol::ReloadRequestMsg>(&m)) {
            const std::uint64_t id = r->id;
            asio::post(io, [&, id] {
                auto result = reload("directorctl reload");
                result.id = id;
                lvs.handle(std::move(result));
            });
        }
    });
    asio::steady_timer ping(io);
    std::function<void()> pingLater = [&] {
        if (!systemd.pingInterval()) return;
        systemd.ping();
        ping.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(*systemd.pingInterval())));
        ping.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) pingLater();
        });
    };
    serveSignals(
        io,
        [&] {
            vrrp.start();
            lvs.start();
            front.start();
            control.start();
            pingLater();
        },
        [&] { reload("SIGHUP"); }, [&] { lvs.dumpState(); },
        [&](std::function<void()> finish) {
            systemd.stopping();
            ping.cancel();
            lvs.stop();
            vrrp.stop();
            control.stop();
            afterCommands(io, lvs.commands(), kScriptsAtStop,
                          [&io, &vrrp, &front, finish = std::move(finish)]() mutable {
                              afterCommands(io, vrrp.commands(), kScriptsAtStop, [&front, finish = std::move(finish)] {
                                  front.stop();
                                  finish();
                              });
                          });
        });
    base::log::info("directord stopped");
    return 0;
}

}  // namespace director
