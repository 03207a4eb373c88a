#include "director/Daemon.h"

#include <pthread.h>

#include <csignal>
#include <memory>

#include "base/Log.h"
#include "conf/Loader.h"
#include "director/Channel.h"
#include "director/ControlServer.h"
#include "director/LvsWorker.h"
#include "director/Supervisor.h"
#include "director/VrrpWorker.h"
#include "kmod/ipvsadm/Ipvsadm.h"

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

// The control socket's requests: "status", and "ipvsadm LEN" followed by ipvsctl's arguments
// (NUL-separated, ending with an empty one) and its -R input. The answer to ipvsadm is
// "STATUS OUTLEN\n", the output, then the errors.
std::string answer(LvsWorker& worker, const std::string& request) {
    if (request == "status") return worker.stateJson() + "\n";
    if (request.rfind("ipvsadm ", 0) == 0) {
        const auto nl = request.find('\n');
        std::vector<std::string> args;
        size_t pos = nl == std::string::npos ? request.size() : nl + 1;
        while (pos < request.size()) {
            const auto end = request.find('\0', pos);
            if (end == std::string::npos || end == pos) {
                pos = end == std::string::npos ? request.size() : end + 1;
                break;
            }
            args.push_back(request.substr(pos, end - pos));
            pos = end + 1;
        }
        std::istringstream input(request.substr(std::min(pos, request.size())));
        kmod::IpvsadmResult r;
        std::string error;
        if (auto cmd = kmod::parseIpvsadm(args, error)) {
            r = kmod::runIpvsadm(*cmd, worker.table(), &input);
            if (cmd->kind != kmod::IpvsadmCommand::Kind::List && cmd->kind != kmod::IpvsadmCommand::Kind::Save &&
                cmd->kind != kmod::IpvsadmCommand::Kind::Help && cmd->kind != kmod::IpvsadmCommand::Kind::Version)
                base::log::info("control: ipvsctl changed the ", worker.table().name(), " table (", args.size(),
                                " arguments); directord leaves services it does not manage alone");
        } else {
            r.status = 2;
            r.err = error + "\n";
        }
        return std::to_string(r.status) + " " + std::to_string(r.out.size()) + "\n" + r.out + r.err;
    }
    return "error: unknown request '" + request.substr(0, 64) + "' (known: status, ipvsadm)\n";
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
