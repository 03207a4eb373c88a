#include "healthcheck/ScriptProbe.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/PathSecurity.h"

namespace healthcheck {

std::optional<Credentials> lookupUser(const std::string& user, std::string& why) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || !found) {
        why = "no such user '" + user + "'";
        return std::nullopt;
    }
    return Credentials{pw.pw_uid, pw.pw_gid, user, pw.pw_dir ? pw.pw_dir : "/"};
}

namespace {

// SIGKILL to a script's process group. A script that runs as another user is signalled with this
// thread's effective uid set to that user for the one call: the kernel lets a sender signal a
// process whose uid matches its own, so the workers need no CAP_KILL (which would let them signal
// every process on the machine). The raw syscall changes this thread's credentials only, not the
// whole process's as glibc's setresuid does; the way back (to the real uid, root) is always allowed,
// and the workers' SECBIT_NO_SETUID_FIXUP keeps their capabilities across both changes.
void killGroup(pid_t pgid, std::optional<uid_t> owner) {
    if (::kill(-pgid, SIGKILL) == 0 || errno != EPERM || !owner) return;
    const auto self = static_cast<long>(::geteuid());
    if (::syscall(SYS_setresuid, -1L, static_cast<long>(*owner), -1L) != 0) return;
    ::kill(-pgid, SIGKILL);
    (void)::syscall(SYS_setresuid, -1L, self, -1L);
}

}  // namespace

struct ScriptProbe::Run : std::enable_shared_from_this<ScriptProbe::Run> {
    Run(asio::io_context& io) : out(io), exitWatch(io), timer(io) {}
    asio::posix::stream_descriptor out;        // the child's stdout+stderr
    asio::posix::stream_descriptor exitWatch;  // pidfd: readable when the child exits
    asio::steady_timer timer;
    pid_t pid = -1;
    std::optional<uid_t> owner;  // the user the script runs as, when not ourselves
    std::string output;
    bool outputDone = false, exited = false, timedOut = false, cancelled = false;
    int status = 0;
    bool dynamicWeight = false;
    std::chrono::steady_clock::time_point start;
    Done done;
    std::array<char, 4096> buf{};

    void readMore() {
        auto self = shared_from_this();
        out.async_read_some(asio::buffer(buf), [self](const boost::system::error_code& ec, size_t n) {
            if (!ec && self->output.size() < 4096) self->output.append(self->buf.data(), n);
            if (ec) {
                self->outputDone = true;
                self->maybeFinish();
                return;
            }
            self->readMore();
        });
    }

    void watchExit() {
        auto self = shared_from_this();
        exitWatch.async_wait(asio::posix::descriptor_base::wait_read, [self](const boost::system::error_code& ec) {
            if (ec) return;
            int st = 0;
            if (::waitpid(self->pid, &st, WNOHANG) == self->pid) {
                self->status = st;
                self->exited = true;
                self->timer.cancel();
                // Take what output there is now: a grandchild that left the process group may keep
                // the pipe open for ever, and the rest of the group is killed.
                killGroup(self->pid, self->owner);
                self->drain();
                self->outputDone = true;
                self->maybeFinish();
            } else {
                self->watchExit();
            }
        });
    }

    void drain() {
        char tmp[4096];
        ssize_t n;
        while (output.size() < 4096 && (n = ::read(out.native_handle(), tmp, sizeof tmp)) > 0)
            output.append(tmp, static_cast<size_t>(n));
    }

    void maybeFinish() {
        if (!exited || !outputDone || cancelled) return;
        cancelled = true;  // finish once
        ProbeResult r;
        if (timedOut) r = ProbeResult::fail(Failure::ScriptTimeout);
        else if (WIFSIGNALED(status)) r = ProbeResult::fail(Failure::ScriptSignal, WTERMSIG(status));
        else {
            const int code = WEXITSTATUS(status);
            if (code == 0) r = ProbeResult::success();
            else if (dynamicWeight && code >= 2) {
                r = ProbeResult::success();
                r.weight = code - 2;
            } else {
                r = ProbeResult::fail(Failure::ScriptExit, code);
            }
        }
        const auto nl = output.find('\n');
        r.output = output.substr(0, nl);
        r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        boost::system::error_code ignore;
        out.close(ignore);
        exitWatch.close(ignore);
        auto d = std::move(done);
        d(r);
    }

    void kill() {
        if (pid > 0 && !exited) killGroup(pid, owner);
    }
};

ScriptProbe::ScriptProbe(asio::io_context& io, ScriptSpec spec) : io_(io), spec_(std::move(spec)) {
    if (spec_.credentials) creds_ = spec_.credentials;
    else if (!spec_.user.empty() && ::geteuid() == 0) creds_ = lookupUser(spec_.user, credError_);
    std::string name = creds_ ? creds_->name : std::string(), home = creds_ ? creds_->home : std::string("/");
    if (!creds_) {  // as ourselves
        std::vector<char> buf(16384);
        passwd pw{};
        passwd* found = nullptr;
        if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
            name = pw.pw_name;
            home = pw.pw_dir ? pw.pw_dir : "/";
        }
    }
    env_ = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "USER=" + name,
            "LOGNAME=" + name, "LANG=C"};
}

ScriptProbe::~ScriptProbe() { cancel(); }

void ScriptProbe::run(Done done) {
    cancel();
    auto r = std::make_shared<Run>(io_);
    r->done = std::move(done);
    r->dynamicWeight = spec_.dynamicWeight;
    r->start = std::chrono::steady_clock::now();
    run_ = r;
    auto failSoon = [this, r](Failure f, int detail) {
        asio::post(io_, [r, f, detail] {
            if (r->cancelled) return;
            r->cancelled = true;
            auto d = std::move(r->done);
            d(ProbeResult::fail(f, detail));
        });
    };
    if (!spec_.user.empty() && ::geteuid() == 0 && !creds_) return failSoon(Failure::ScriptSpawn, EPERM);
    std::string unsafe;
    if (::geteuid() == 0 && (!creds_ || creds_->uid == 0) && spec_.scriptSecurity &&
        !base::commandSafeForRoot(spec_.argv, unsafe)) {
        asio::post(io_, [r, unsafe] {
            if (r->cancelled) return;
            r->cancelled = true;
            auto d = std::move(r->done);
            ProbeResult res = ProbeResult::fail(Failure::ScriptSpawn, EPERM);
            res.output = unsafe;
            d(res);
        });
        return;
    }

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return failSoon(Failure::ScriptSpawn, errno);
    std::vector<char*> argv;
    for (auto& a : spec_.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::optional<Credentials> creds = creds_;

    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return failSoon(Failure::ScriptSpawn, e);
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::setpgid(0, 0);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        // none of the daemon's descriptors (sockets, listeners, the control socket) go along
        ::close_range(3, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
        if (creds) {
            if (::setgroups(0, nullptr) != 0 || ::setgid(creds->gid) != 0 || ::setuid(creds->uid) != 0) ::_exit(126);
        }
        ::execve(argv[0], argv.data(), envp.data());
        const char msg[] = "exec failed\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also from the parent, so a kill right after fork reaches the group
    ::close(pipefd[1]);
    ::fcntl(pipefd[0], F_SETFL, ::fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);
    r->pid = pid;
    if (creds && creds->uid != ::geteuid()) r->owner = creds->uid;
    r->out.assign(pipefd[0]);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        const int e = errno;
        killGroup(pid, r->owner);
        std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();  // never a blocking wait on the loop
        return failSoon(Failure::ScriptSpawn, e);
    }
    r->exitWatch.assign(pidfd);
    r->timer.expires_after(spec_.timeout);
    r->timer.async_wait([r](const boost::system::error_code& ec) {
        if (ec || r->exited) return;
        r->timedOut = true;
        r->kill();
    });
    r->readMore();
    r->watchExit();
}

void ScriptProbe::cancel() {
    if (!run_) return;
    auto r = std::move(run_);
    r->cancelled = true;
    r->timer.cancel();
    boost::system::error_code ignore;
    r->out.close(ignore);
    if (r->pid > 0 && !r->exited) {
        r->kill();
        // reaped when it is gone (its pidfd becomes readable), never waited for on the loop
        auto reaper = r;
        r->exitWatch.async_wait(asio::posix::descriptor_base::wait_read, [reaper](const boost::system::error_code&) {
            ::waitpid(reaper->pid, nullptr, WNOHANG);
            boost::system::error_code ignore2;
            reaper->exitWatch.close(ignore2);
        });
        r->exited = true;
        return;
    }
    r->exitWatch.close(ignore);
}

}  // namespace healthcheck
