#include "director/Supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/Log.h"
#include "director/lvs/Announcer.h"
#include "director/ReloadCheck.h"
#include "director/protocol/Messages.h"
#include "vrrp/Net.h"

namespace director {
namespace {

constexpr double kStopGrace = 15;   // seconds a worker gets to stop before SIGKILL
constexpr double kHealthyRun = 60;  // a worker that lived this long restarts without back-off
constexpr double kMaxBackoff = 30;
constexpr size_t kMaxPending = 1u << 30;  // bytes queued for one worker before messages are dropped

std::string describeExit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "stopped (status " + std::to_string(status) + ")";
}

std::int64_t unixSeconds() { return static_cast<std::int64_t>(::time(nullptr)); }

}  // namespace

double monotonicSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Supervisor::Supervisor(conf::Config cfg, conf::DataPlane plane, WorkerMains mains, int pidFileFd)
    : cfg_(std::move(cfg)), plane_(plane), pidFileFd_(pidFileFd) {
    lvs_.name = "lvs";
    lvs_.main = std::move(mains.lvs);
    vrrp_.name = "vrrp";
    vrrp_.main = std::move(mains.vrrp);
    fwd_.name = "fwd";
    fwd_.main = std::move(mains.fwd);
    fwd_.enabled = plane_ == conf::DataPlane::Userspace;
    status_.name = "status";
    status_.main = std::move(mains.status);
    startedUnix_ = unixSeconds();
}

conf::Config workerConfig(privileges::Worker worker, const conf::Config& cfg) {
    if (worker == privileges::Worker::Lvs) return cfg;
    conf::Config cut;
    cut.file = cfg.file;
    cut.global = cfg.global;
    if (worker == privileges::Worker::Status) return cut;
    cut.vrrpScripts = cfg.vrrpScripts;
    cut.trackFiles = cfg.trackFiles;  // the lvs worker reads them too (file checks)
    cut.trackProcesses = cfg.trackProcesses;
    cut.bfdInstances = cfg.bfdInstances;  // track_bfds' weights (the lvs worker runs the sessions)
    cut.staticAddresses = cfg.staticAddresses;
    cut.staticRoutes = cfg.staticRoutes;
    cut.staticRules = cfg.staticRules;
    cut.vrrpInstances = cfg.vrrpInstances;
    cut.syncGroups = cfg.syncGroups;
    return cut;
}

privileges::Worker Supervisor::privilegeKind(const Worker& w) const {
    return &w == &lvs_    ? privileges::Worker::Lvs
           : &w == &vrrp_ ? privileges::Worker::Vrrp
           : &w == &fwd_  ? privileges::Worker::Fwd
                          : privileges::Worker::Status;
}

void Supervisor::spawn(Worker& w) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        base::log::error("supervisor: cannot create the ", w.name, " worker's socket: ", std::strerror(errno),
                         "; retrying in 1 s");
        w.restartAt = monotonicSeconds() + 1;
        return;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        base::log::error("supervisor: cannot fork the ", w.name, " worker: ", std::strerror(errno),
                         "; retrying in 1 s");
        ::close(sv[0]);
        ::close(sv[1]);
        w.restartAt = monotonicSeconds() + 1;
        return;
    }
    if (pid == 0) {
        // The child: die with the supervisor, drop its descriptors, take signals normally again.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) std::_Exit(1);
        ::close(sv[0]);
        if (sigFd_ >= 0) ::close(sigFd_);
        if (parseFd_ >= 0) ::close(parseFd_);
        if (pidFileFd_ >= 0) ::close(pidFileFd_);
        for (Worker* o : {&lvs_, &vrrp_, &fwd_, &status_})
            if (o->fd >= 0) ::close(o->fd);
        // Default dispositions, but still blocked: the worker unblocks them once its own handlers
        // are in place (a signal sent while it starts up waits instead of killing it).
        for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1}) ::signal(sig, SIG_DFL);
        base::log::setIdentity(w.name);
        const auto kind = privilegeKind(w);
        const auto plan = privileges::plan(kind, cfg_);
        std::string why;
        if (privileges::apply(kind, plan, why))
            base::log::info(w.name, ": privileges: ", privileges::describe(plan), "; no_new_privs; seccomp filter on");
        else if (!why.empty())
            base::log::error(w.name, ": privileges: cannot drop to ", privileges::describe(plan), ": ", why,
                             "; running with what it has (is directord in a container without CAP_SETPCAP?)");
        const double beat = systemd_.pingInterval() ? std::min(1.0, *systemd_.pingInterval() / 2) : 0;
        const conf::Config cut = workerConfig(kind, cfg_);
        const WorkerContext ctx{cut,        plane_,     roles_, haveTable_ ? &table_ : nullptr, operator_, bfdStates_,
                                haveTemplates_ ? &templates_ : nullptr, sv[1], beat};
        std::exit(w.main(ctx));
    }
    ::close(sv[1]);
    w.plan = privileges::plan(privilegeKind(w), cfg_);
    w.pid = pid;
    w.fd = sv[0];
    const int flags = ::fcntl(w.fd, F_GETFL);
    ::fcntl(w.fd, F_SETFL, flags | O_NONBLOCK);
    w.in = protocol::FrameReader(protocol::kMaxWorkerFrame);
    w.out.clear();
    w.startedAt = monotonicSeconds();
    w.heardAt = w.startedAt;
    w.saidHung = false;
    w.restartAt = 0;
    w.startedUnix = unixSeconds();
    if (&w == &lvs_) pendingConfigs_ = 0;  // it starts from the current config and says when it is applied
    base::log::info("supervisor: started the ", w.name, " worker (pid ", pid, ")");
    tellStats();
}

void Supervisor::sendTo(Worker& w, const std::string& frame) {
    if (w.fd < 0) return;  // not running: what it needs is handed to it when it starts
    if (w.out.size() + frame.size() > kMaxPending) {
        base::log::warning("supervisor: the ", w.name, " worker is not reading its messages (", w.out.size(),
                           " bytes queued); dropping one");
        return;
    }
    w.out += frame;
    writeTo(w);
}

void Supervisor::writeTo(Worker& w) {
    while (!w.out.empty() && w.fd >= 0) {
        const ssize_t n = ::send(w.fd, w.out.data(), w.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            w.out.erase(0, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // poll() tells when there is room
        closeChannel(w);                                           // the worker is gone or going; SIGCHLD tells us how
    }
}

void Supervisor::closeChannel(Worker& w) {
    if (w.fd >= 0) ::close(w.fd);
    w.fd = -1;
    w.out.clear();
}

// What one worker says reaches the workers that need it; the supervisor keeps what a restarted
// worker must start from.
void Supervisor::route(Worker& from, const protocol::Frame& f) {
    const std::uint8_t type = f.type;
    from.heardAt = monotonicSeconds();
    if (type == protocol::typeOf<protocol::HeartbeatMsg>()) return;
    if (&from == &lvs_ &&
        (type == protocol::typeOf<protocol::OperatorMsg>() || type == protocol::typeOf<protocol::ReloadRequestMsg>() ||
         type == protocol::typeOf<protocol::AppliedMsg>())) {
        auto m = protocol::decode(f);
        if (!m) return;
        if (auto* d = std::get_if<protocol::OperatorMsg>(&*m)) operator_ = std::move(*d);
        if (auto* a = std::get_if<protocol::AppliedMsg>(&*m)) applied(a->summary);
        if (auto* r = std::get_if<protocol::ReloadRequestMsg>(&*m)) reload("directorctl reload", r->id);
        return;
    }
    if (&from == &vrrp_ && type == protocol::typeOf<protocol::RoleMsg>()) {
        if (auto m = protocol::decode(f)) {
            const auto& role = std::get<protocol::RoleMsg>(*m);
            roles_[role.instance] = role.state;
        }
    }
    if (&from == &fwd_ && type == protocol::typeOf<protocol::TemplatesMsg>()) {
        templates_ = f.payload;  // kept for the fwd worker that replaces this one; nobody else needs it
        haveTemplates_ = true;
        return;
    }
    if (&from == &lvs_ && type == protocol::typeOf<protocol::TableMsg>()) {
        table_ = f.payload;
        haveTable_ = true;
    }
    if (&from == &lvs_ && type == protocol::typeOf<protocol::BfdStateMsg>())
        if (auto m = protocol::decode(f)) {
            const auto& b = std::get<protocol::BfdStateMsg>(*m);
            bfdStates_[b.name] = b.up;
        }
    deliver(&from, type, protocol::frameBytes(type, f.payload));
}

// A message to the workers its type goes to (protocol::routeOf), except the one it came from.
void Supervisor::deliver(const Worker* from, std::uint8_t type, const std::string& frame) {
    const protocol::Route r = protocol::routeOf(type);
    if (r.lvs && from != &lvs_) sendTo(lvs_, frame);
    if (r.vrrp && from != &vrrp_) sendTo(vrrp_, frame);
    if (r.fwd && from != &fwd_ && fwd_.enabled) sendTo(fwd_, frame);
    if (r.status && from != &status_) sendTo(status_, frame);
}

void Supervisor::readFrom(Worker& w) {
    char buf[65536];
    while (w.fd >= 0) {
        const ssize_t n = ::recv(w.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            closeChannel(w);
            return;
        }
        w.in.append(buf, static_cast<size_t>(n));
        while (auto f = w.in.next()) route(w, *f);
        if (w.in.broken()) {
            base::log::error("supervisor: the ", w.name, " worker sent a frame past the size limit; restarting it");
            ::kill(w.pid, SIGKILL);
            closeChannel(w);
            return;
        }
    }
}

Supervisor::Worker* Supervisor::byPid(pid_t pid) {
    for (Worker* w : {&lvs_, &vrrp_, &fwd_, &status_})
        if (w->pid == pid) return w;
    return nullptr;
}

void Supervisor::reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        Worker* w = byPid(pid);
        if (!w) continue;
        w->pid = -1;
        closeChannel(*w);
        if (w == &lvs_ && cfg_.global.announce.enabled) {
            // what it announced, nobody serves now: withdrawn until the restarted worker decides again
            const auto ec = lvs::RouteTable(cfg_.global.announce.table, cfg_.global.announce.protocol).withdrawAll();
            base::log::warning("supervisor: the lvs worker is gone: ",
                               ec ? "could not withdraw the announced VIPs: " + ec.message()
                                  : std::string("withdrew the announced VIPs until its successor decides again"));
        }
        if (stopping_) {
            base::log::info("supervisor: the ", w->name, " worker (pid ", pid, ") ", describeExit(status));
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == kExitConfig) {
            base::log::error("supervisor: the ", w->name, " worker (pid ", pid,
                             ") cannot run with this configuration; stopping directord (see its error above)");
            fatal_ = true;
            stopping_ = true;
            stopDeadline_ = monotonicSeconds() + kStopGrace;
            signalWorkers(SIGTERM);
            continue;
        }
        const double now = monotonicSeconds();
        if (now - w->startedAt >= kHealthyRun) w->restarts = 0;
        // The first death restarts at once (a VRRP master must be back within its advert interval);
        // repeated ones back off.
        const double delay = w->restarts == 0 ? 0 : std::min(kMaxBackoff, std::pow(2.0, w->restarts - 1));
        ++w->restarts;
        ++w->restartsTotal;
        w->startedUnix = 0;
        w->restartAt = now + delay;
        if (delay == 0)
            base::log::error("supervisor: the ", w->name, " worker (pid ", pid, ") ", describeExit(status),
                             "; restarting it now (restart ", w->restarts, ")");
        else
            base::log::error("supervisor: the ", w->name, " worker (pid ", pid, ") ", describeExit(status),
                             "; restarting it in ", delay, " s (restart ", w->restarts, ")");
        if (w == &vrrp_ && delay > 0) giveUpMasterRoles(delay);
    }
}

// A vrrp worker restarted `delay` s late: the instances it was master of send no adverts meanwhile.
// The peer's master-down timer (3 adverts + skew from the last advert) can run out 2 adverts after
// the death; an instance whose restart comes later than that (with 0.1 s for the new worker to
// start) is taken over by the peer, and its addresses must not stay here too (two holders until the
// restart). They come off now and those instances are Backup for the other workers and for the
// worker that restarts (it resumes as Backup and takes them back by VRRP). An instance with slower
// adverts keeps its role: the worker is back before the peer can act.
void Supervisor::giveUpMasterRoles(double delay) {
    std::vector<conf::VrrpInstance> held;
    for (const auto& inst : cfg_.vrrpInstances) {
        auto it = roles_.find(inst.name);
        if (it == roles_.end() || it->second != ::vrrp::State::Master) continue;
        const double advert = std::chrono::duration<double>(inst.advertInterval).count();
        if (delay + 0.1 < 2 * advert) continue;
        held.push_back(inst);
        it->second = ::vrrp::State::Backup;
        // as if the dead worker had said it
        deliver(&vrrp_, protocol::typeOf<protocol::RoleMsg>(),
                protocol::encode(protocol::RoleMsg{inst.name, ::vrrp::State::Backup}));
    }
    if (held.empty()) return;
    std::string failed;
    const int removed = ::vrrp::removeInstanceAddresses(held, failed);
    std::string names;
    for (const auto& inst : held) names += (names.empty() ? "" : ", ") + inst.name;
    base::log::warning("supervisor: the vrrp worker was master of ", names, "; removed ", removed,
                       " of their addresses until it is back (the peer takes them over meanwhile)",
                       failed.empty() ? std::string() : "; could not remove " + failed);
}

void Supervisor::signalWorkers(int sig) {
    for (Worker* w : {&lvs_, &vrrp_, &fwd_, &status_})
        if (w->pid > 0) ::kill(w->pid, sig);
}

bool Supervisor::anyAlive() const { return lvs_.pid > 0 || vrrp_.pid > 0 || fwd_.pid > 0 || status_.pid > 0; }

void Supervisor::reload(const char* why, std::optional<std::uint64_t> id) {
    if (parser_.joinable()) {
        base::log::info("reload: ", why, ": a reload is being read; reading the file again after it");
        queued_.push_back({why, id});
        return;
    }
    parsing_.push_back({why, id});
    startParse();
}

void Supervisor::startParse() {
    parseStarted_ = monotonicSeconds();
    systemd_.reloading();
    base::log::info("reload: ", parsing_.front().why, ": reading ", cfg_.file);
    parsed_.reset();
    // the parse reads a copy of what it compares against: the loop goes on with cfg_ meanwhile
    parser_ = std::thread([this, running = cfg_, plane = plane_] {
        parsed_ = checkReload(running, plane);
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(parseFd_, &one, sizeof one);
    });
}

void Supervisor::parseDone() {
    std::uint64_t n = 0;
    if (::read(parseFd_, &n, sizeof n) != static_cast<ssize_t>(sizeof n) || !parser_.joinable()) return;
    parser_.join();
    const double parsed = monotonicSeconds() - parseStarted_;
    auto result = commit(std::move(*parsed_), parseStarted_, parsed);
    parsed_.reset();
    for (const auto& w : parsing_) {
        if (!w.id) continue;
        result.id = *w.id;
        sendTo(lvs_, protocol::encode(result));  // after the ConfigMsg: the worker has applied it
    }
    parsing_ = std::move(queued_);
    queued_.clear();
    if (!parsing_.empty() && !stopping_) startParse();
}

protocol::ReloadResultMsg Supervisor::commit(ReloadCheck check, double t0, double parsed) {
    if (!check.config) {
        for (const auto& e : check.errors) base::log::error("reload: ", e);
        reloadRefused(check.errors);
        return protocol::ReloadResultMsg{0, false, std::move(check.errors)};
    }
    if (check.config->global.netNamespace != cfg_.global.netNamespace) {
        const std::string e = cfg_.file + ": global.net_namespace changed (" +
                              (cfg_.global.netNamespace.empty() ? "none" : cfg_.global.netNamespace) + " -> " +
                              (check.config->global.netNamespace.empty() ? "none" : check.config->global.netNamespace) +
                              "); restart directord to apply it";
        base::log::error("reload: ", e);
        reloadRefused({e});
        return protocol::ReloadResultMsg{0, false, {e}};
    }
    // a worker cannot take back a capability it dropped: a config whose scripts need more (one now
    // runs as root) waits for a restart of directord
    for (Worker* w : {&lvs_, &vrrp_}) {
        if (w->pid < 0) continue;
        const auto next = privileges::plan(privilegeKind(*w), *check.config);
        if (privileges::covers(w->plan, next)) continue;
        const std::string e = cfg_.file + ": the " + w->name + " worker runs with " +
                              privileges::describe(w->plan) + ", and the new config needs " +
                              privileges::describe(next) + "; restart directord to apply it";
        base::log::error("reload: ", e);
        reloadRefused({e});
        return protocol::ReloadResultMsg{0, false, {e}};
    }
    std::swap(cfg_, *check.config);                        // the old config is freed after the new one is out
    for (auto it = roles_.begin(); it != roles_.end();) {  // instances the new config no longer has
        const bool kept = std::any_of(cfg_.vrrpInstances.begin(), cfg_.vrrpInstances.end(),
                                      [&](const conf::VrrpInstance& v) { return v.name == it->first; });
        it = kept ? std::next(it) : roles_.erase(it);
    }
    ++pendingConfigs_;
    sendTo(lvs_, protocol::encode(protocol::ConfigMsg{cfg_}));
    const std::string slim = protocol::encode(protocol::ConfigMsg{workerConfig(privileges::Worker::Vrrp, cfg_)});
    for (Worker* w : {&vrrp_, &fwd_}) sendTo(*w, slim);
    sendTo(status_, protocol::encode(protocol::ConfigMsg{workerConfig(privileges::Worker::Status, cfg_)}));
    lastReloadAt_ = unixSeconds();
    lastReloadOk_ = true;
    lastReloadError_.clear();
    tellStats();
    base::log::info("reload: ", cfg_.file, " read and checked in ", static_cast<int>(parsed * 1000),
                    " ms, sent to the workers in ", static_cast<int>((monotonicSeconds() - t0 - parsed) * 1000), " ms");
    return protocol::ReloadResultMsg{0, true, {}};
}

void Supervisor::reloadRefused(const std::vector<std::string>& errors) {
    systemd_.ready("reload refused: " + errors.back());
    ++reloadFailures_;
    lastReloadAt_ = unixSeconds();
    lastReloadOk_ = false;
    lastReloadError_ = errors.front();
    tellStats();
}

void Supervisor::tellStats() {
    protocol::SupervisorStatsMsg m;
    m.startedAt = startedUnix_;
    m.reloadFailures = reloadFailures_;
    m.lastReloadAt = lastReloadAt_;
    m.lastReloadOk = lastReloadOk_;
    m.lastReloadError = lastReloadError_;
    for (const Worker* w : {&lvs_, &vrrp_, &fwd_, &status_})
        if (w->enabled) m.workers.push_back({w->name, w->restartsTotal, w->pid > 0 ? w->startedUnix : 0});
    sendTo(lvs_, protocol::encode(m));
}

// The lvs worker has the config in force (at start, after a reload): systemd hears READY=1 once
// every config sent is applied.
void Supervisor::applied(const std::string& summary) {
    if (pendingConfigs_ > 0) --pendingConfigs_;
    if (pendingConfigs_ > 0) return;
    systemd_.ready(summary);
    if (!ready_ && systemd_.enabled()) base::log::info("supervisor: told systemd we are ready (", summary, ")");
    ready_ = true;
}

// systemd watches the supervisor (WATCHDOG=1 every half WatchdogSec); the supervisor watches the
// workers: one that has said nothing (not even its heartbeat) for WatchdogSec is hung, and is
// killed and restarted as if it had crashed.
void Supervisor::watchdog(double now) {
    const auto interval = systemd_.pingInterval();
    if (!interval) return;
    if (now >= nextPing_) {
        systemd_.ping();
        nextPing_ = now + *interval;
    }
    if (stopping_) return;
    const double limit = 2 * *interval;
    for (Worker* w : {&lvs_, &vrrp_, &fwd_, &status_}) {
        if (w->pid <= 0 || w->fd < 0 || now - w->heardAt <= limit || w->saidHung) continue;
        base::log::error("supervisor: the ", w->name, " worker (pid ", w->pid, ") has said nothing for ",
                         static_cast<int>(now - w->heardAt), " s (WatchdogSec is ", static_cast<int>(limit),
                         " s): it is hung; killing it so it restarts");
        w->saidHung = true;
        ::kill(w->pid, SIGKILL);
    }
}

int Supervisor::run() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaddset(&sigs, sig);
    ::sigprocmask(SIG_BLOCK, &sigs, nullptr);
    sigFd_ = ::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    parseFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sigFd_ < 0 || parseFd_ < 0) {
        base::log::error("supervisor: signalfd / eventfd: ", std::strerror(errno));
        return 1;
    }
    base::log::info("supervisor: directord starting (pid ", ::getpid(), ", config ", cfg_.file, ")");
    spawn(vrrp_);
    if (fwd_.enabled) spawn(fwd_);
    spawn(status_);
    spawn(lvs_);

    while (true) {
        const double now = monotonicSeconds();
        if (stopping_ && !anyAlive()) break;
        if (stopping_ && now >= stopDeadline_) {
            base::log::error("supervisor: workers did not stop within ", kStopGrace, " s; killing them");
            signalWorkers(SIGKILL);
            stopDeadline_ = now + 5;
        }
        watchdog(now);
        double wait = stopping_ ? stopDeadline_ - now : 3600;
        if (systemd_.pingInterval()) wait = std::min(wait, std::max(0.0, nextPing_ - now));
        for (Worker* w : {&vrrp_, &fwd_, &status_, &lvs_}) {
            if (!stopping_ && w->enabled && w->pid < 0 && w->restartAt > 0) {
                if (w->restartAt <= now) spawn(*w);
                else wait = std::min(wait, w->restartAt - now);
            }
        }
        std::vector<pollfd> fds{{sigFd_, POLLIN, 0}, {parseFd_, POLLIN, 0}};
        std::vector<Worker*> owners{nullptr, nullptr};
        for (Worker* w : {&lvs_, &vrrp_, &fwd_, &status_})
            if (w->fd >= 0) {
                fds.push_back({w->fd, static_cast<short>(POLLIN | (w->out.empty() ? 0 : POLLOUT)), 0});
                owners.push_back(w);
            }
        const int timeoutMs = static_cast<int>(std::ceil(std::max(0.0, wait) * 1000));
        const int n = ::poll(fds.data(), fds.size(), timeoutMs);
        if (n < 0 && errno != EINTR) {
            base::log::error("supervisor: poll: ", std::strerror(errno));
            break;
        }
        if (fds[1].revents & POLLIN) parseDone();
        for (size_t i = 2; i < fds.size(); ++i) {
            if (fds[i].revents & POLLOUT) writeTo(*owners[i]);
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) readFrom(*owners[i]);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            while (::read(sigFd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                switch (si.ssi_signo) {
                case SIGCHLD: reap(); break;
                case SIGHUP:
                    if (!stopping_) reload("SIGHUP");
                    break;
                case SIGUSR1: signalWorkers(SIGUSR1); break;
                case SIGTERM:
                case SIGINT:
                    if (!stopping_) {
                        base::log::info("supervisor: ", strsignal(static_cast<int>(si.ssi_signo)),
                                        ": stopping the workers");
                        stopping_ = true;
                        stopDeadline_ = monotonicSeconds() + kStopGrace;
                        systemd_.stopping();
                        signalWorkers(SIGTERM);
                    }
                    break;
                }
            }
        }
    }
    if (parser_.joinable()) parser_.join();  // a reload read while stopping: bounded by the include caps
    ::close(sigFd_);
    sigFd_ = -1;
    ::close(parseFd_);
    parseFd_ = -1;
    base::log::info("supervisor: directord stopped");
    return fatal_ ? 1 : 0;
}

}  // namespace director
