#include "director/Supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/Log.h"
#include "conf/Loader.h"

namespace director {
namespace {

constexpr double kStopGrace = 15;   // seconds a worker gets to stop before SIGKILL
constexpr double kHealthyRun = 60;  // a worker that lived this long restarts without back-off
constexpr double kMaxBackoff = 30;

sigset_t handledSignals() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaddset(&s, sig);
    return s;
}

std::string describeExit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "stopped (status " + std::to_string(status) + ")";
}

}  // namespace

double monotonicSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Supervisor::Supervisor(conf::Config cfg, WorkerMain lvs, WorkerMain vrrp, int pidFileFd)
    : cfg_(std::move(cfg)), pidFileFd_(pidFileFd) {
    lvs_.name = "lvs";
    lvs_.main = std::move(lvs);
    vrrp_.name = "vrrp";
    vrrp_.main = std::move(vrrp);
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
        if (pidFileFd_ >= 0) ::close(pidFileFd_);
        for (Worker* o : {&lvs_, &vrrp_})
            if (o->fd >= 0) ::close(o->fd);
        // Default dispositions, but still blocked: the worker unblocks them once its own handlers
        // are in place (a signal sent while it starts up waits instead of killing it).
        for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1}) ::signal(sig, SIG_DFL);
        base::log::setIdentity(w.name);
        std::exit(w.main(cfg_, sv[1]));
    }
    ::close(sv[1]);
    w.pid = pid;
    w.fd = sv[0];
    w.inbuf.clear();
    w.startedAt = monotonicSeconds();
    w.restartAt = 0;
    base::log::info("supervisor: started the ", w.name, " worker (pid ", pid, ")");
    if (&w == &lvs_)
        for (const auto& [inst, line] : roles_) sendTo(w, line);
}

void Supervisor::sendTo(Worker& w, const std::string& line) {
    if (w.fd < 0) return;
    const std::string msg = line + "\n";
    // Lines are short and the worker reads continuously; a full socket means a stuck worker, whose
    // restart will replay the roles anyway.
    if (::send(w.fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size()))
        base::log::warning("supervisor: could not pass '", line, "' to the ", w.name, " worker");
}

void Supervisor::relay(Worker& from, const std::string& line) {
    if (&from == &vrrp_ && line.rfind("role ", 0) == 0) {
        const auto sp = line.find(' ', 5);
        if (sp != std::string::npos) roles_[line.substr(5, sp - 5)] = line;
    }
    sendTo(&from == &vrrp_ ? lvs_ : vrrp_, line);
}

void Supervisor::readFrom(Worker& w) {
    char buf[4096];
    const ssize_t n = ::recv(w.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        ::close(w.fd);  // the worker is gone or going; SIGCHLD tells us how
        w.fd = -1;
        return;
    }
    w.inbuf.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = w.inbuf.find('\n')) != std::string::npos) {
        const std::string line = w.inbuf.substr(0, nl);
        w.inbuf.erase(0, nl + 1);
        relay(w, line);
    }
    if (w.inbuf.size() > 65536) w.inbuf.clear();  // a runaway line: drop it
}

void Supervisor::reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        Worker* w = pid == lvs_.pid ? &lvs_ : pid == vrrp_.pid ? &vrrp_ : nullptr;
        if (!w) continue;
        w->pid = -1;
        if (w->fd >= 0) {
            ::close(w->fd);
            w->fd = -1;
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
        const double delay = std::min(kMaxBackoff, std::pow(2.0, w->restarts));
        ++w->restarts;
        w->restartAt = now + delay;
        base::log::error("supervisor: the ", w->name, " worker (pid ", pid, ") ", describeExit(status),
                         "; restarting it in ", delay, " s (restart ", w->restarts, ")");
    }
}

void Supervisor::signalWorkers(int sig) {
    for (Worker* w : {&lvs_, &vrrp_})
        if (w->pid > 0) ::kill(w->pid, sig);
}

bool Supervisor::anyAlive() const { return lvs_.pid > 0 || vrrp_.pid > 0; }

void Supervisor::reload() {
    base::log::info("reload: SIGHUP: reading ", cfg_.file);
    conf::LoadResult next = conf::loadFile(cfg_.file);
    if (!next.ok()) {
        for (const auto& d : next.diagnostics) base::log::error("reload: ", d.str());
        base::log::error("reload: ", next.diagnostics.size(), " error(s) in ", cfg_.file,
                         "; keeping the running configuration (fix the file and send SIGHUP again)");
        return;
    }
    cfg_ = std::move(*next.config);
    signalWorkers(SIGHUP);
}

int Supervisor::run() {
    const sigset_t sigs = handledSignals();
    ::sigprocmask(SIG_BLOCK, &sigs, nullptr);
    sigFd_ = ::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigFd_ < 0) {
        base::log::error("supervisor: signalfd: ", std::strerror(errno));
        return 1;
    }
    base::log::info("supervisor: directord starting (pid ", ::getpid(), ", config ", cfg_.file, ")");
    spawn(vrrp_);
    spawn(lvs_);

    while (true) {
        const double now = monotonicSeconds();
        if (stopping_ && !anyAlive()) break;
        if (stopping_ && now >= stopDeadline_) {
            base::log::error("supervisor: workers did not stop within ", kStopGrace, " s; killing them");
            signalWorkers(SIGKILL);
            stopDeadline_ = now + 5;
        }
        double wait = stopping_ ? stopDeadline_ - now : 3600;
        for (Worker* w : {&lvs_, &vrrp_}) {
            if (!stopping_ && w->pid < 0 && w->restartAt > 0) {
                if (w->restartAt <= now) spawn(*w);
                else wait = std::min(wait, w->restartAt - now);
            }
        }
        std::vector<pollfd> fds{{sigFd_, POLLIN, 0}};
        std::vector<Worker*> owners{nullptr};
        for (Worker* w : {&lvs_, &vrrp_})
            if (w->fd >= 0) {
                fds.push_back({w->fd, POLLIN, 0});
                owners.push_back(w);
            }
        const int timeoutMs = static_cast<int>(std::ceil(std::max(0.0, wait) * 1000));
        const int n = ::poll(fds.data(), fds.size(), timeoutMs);
        if (n < 0 && errno != EINTR) {
            base::log::error("supervisor: poll: ", std::strerror(errno));
            break;
        }
        for (size_t i = 1; i < fds.size(); ++i)
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) readFrom(*owners[i]);
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            while (::read(sigFd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                switch (si.ssi_signo) {
                case SIGCHLD: reap(); break;
                case SIGHUP:
                    if (!stopping_) reload();
                    break;
                case SIGUSR1: signalWorkers(SIGUSR1); break;
                case SIGTERM:
                case SIGINT:
                    if (!stopping_) {
                        base::log::info("supervisor: ", strsignal(static_cast<int>(si.ssi_signo)),
                                        ": stopping the workers");
                        stopping_ = true;
                        stopDeadline_ = monotonicSeconds() + kStopGrace;
                        signalWorkers(SIGTERM);
                    }
                    break;
                }
            }
        }
    }
    ::close(sigFd_);
    sigFd_ = -1;
    base::log::info("supervisor: directord stopped");
    return fatal_ ? 1 : 0;
}

}  // namespace director
