// Each worker's privileges: the plan (pure: config in, capabilities out), and the drop itself in a
// forked child, as the supervisor does it: its capability sets read back from /proc, no_new_privs
// and the seccomp filter on, a forbidden syscall refused with EPERM, and what the worker needs
// still working (root: CI runs as root).
#include <catch2/catch.hpp>

#include <linux/capability.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "director/Privileges.h"
#include "healthcheck/ScriptProbe.h"

namespace priv = director::privileges;

namespace {

conf::Config withScriptUser(const std::string& user) {
    conf::Config c;
    c.global.scriptUser = "nobody";
    conf::VrrpScript s;
    s.name = "chk";
    s.command.argv = {"/bin/true"};
    s.user = user;
    c.vrrpScripts.push_back(s);
    return c;
}

std::uint64_t mask(std::initializer_list<int> caps) {
    std::uint64_t m = 0;
    for (int c : caps) m |= 1ull << c;
    return m;
}

// A field of /proc/self/status ("CapEff", "NoNewPrivs", ...).
std::string status(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", key.size() + 1));
    return "";
}

// Runs `body` in a forked child after the worker's drop; its exit code (0: every check held).
template <class Fn>
int inWorker(priv::Worker w, const priv::Plan& p, Fn body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::string why;
        if (!priv::apply(w, p, why)) ::_exit(100);
        ::_exit(body());
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

// exit code of `argv` run from here (fork + exec), or 127 + errno's code when exec failed
int run(const char* path) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        char* const argv[] = {const_cast<char*>(path), nullptr};
        ::execv(path, argv);
        ::_exit(errno == EPERM ? 126 : 127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("privileges: each worker's plan") {
    const auto nobody = withScriptUser("");
    const auto fwd = priv::plan(priv::Worker::Fwd, nobody);
    CHECK(fwd.caps == std::vector<int>{CAP_NET_BIND_SERVICE});
    CHECK_FALSE(fwd.execs);
    CHECK_FALSE(fwd.everything);
    const auto vrrp = priv::plan(priv::Worker::Vrrp, nobody);
    CHECK_FALSE(vrrp.everything);
    CHECK(vrrp.execs);
    CHECK(priv::describe(vrrp) == "CAP_NET_RAW, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID");
    const auto lvs = priv::plan(priv::Worker::Lvs, nobody);
    CHECK(priv::describe(lvs) == "CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID");
    // a ping check: the lvs worker keeps NET_RAW for its raw ICMP sockets, and a running worker
    // without it does not cover such a config (the reload asks for a restart)
    auto pinging = nobody;
    conf::CheckConfig ping;
    ping.type = conf::CheckType::Ping;
    pinging.virtualServers.emplace_back().realServers.emplace_back().checks.push_back(ping);
    const auto lvsPing = priv::plan(priv::Worker::Lvs, pinging);
    CHECK(priv::describe(lvsPing) == "CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_NET_RAW");
    CHECK_FALSE(priv::covers(lvs, lvsPing));
    CHECK(priv::covers(lvsPing, lvs));
    const auto front = priv::plan(priv::Worker::Status, nobody);
    CHECK(front.caps == std::vector<int>{CAP_NET_BIND_SERVICE});
    CHECK_FALSE(front.execs);
    CHECK_FALSE(priv::plan(priv::Worker::Status, withScriptUser("root")).everything);  // it runs no scripts
    // a vrrp_script as root: the vrrp worker keeps everything (its script gets what it has), the
    // lvs worker does not
    const auto root = withScriptUser("root");
    const auto vrrpRoot = priv::plan(priv::Worker::Vrrp, root);
    CHECK(vrrpRoot.everything);
    CHECK(priv::describe(vrrpRoot) == "every capability (vrrp_script chk (/bin/true) runs as root)");
    CHECK_FALSE(priv::plan(priv::Worker::Lvs, root).everything);
    // script_user root: a reload may add root scripts to either, so both keep everything
    auto all = withScriptUser("");
    all.global.scriptUser = "root";
    CHECK(priv::plan(priv::Worker::Lvs, all).everything);
    CHECK(priv::describe(priv::plan(priv::Worker::Vrrp, all)) == "every capability (global.script_user is root)");
    CHECK_FALSE(priv::plan(priv::Worker::Fwd, all).everything);  // it runs no scripts
    // a reload can keep or lose capabilities, never gain them
    CHECK(priv::covers(vrrp, vrrp));
    CHECK(priv::covers(vrrpRoot, vrrp));
    CHECK_FALSE(priv::covers(vrrp, vrrpRoot));
    CHECK_FALSE(priv::covers(fwd, lvs));
    CHECK_FALSE(priv::covers(lvs, fwd));  // the lvs worker binds no port: the status worker listens
    CHECK(priv::covers(fwd, front));
}

TEST_CASE("privileges: the status worker binds, connects and reads, and writes no file", "[root]") {
    char dir[] = "/tmp/priv-status.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string d = dir, existing = d + "/existing";
    { std::ofstream(existing) << "root's file\n"; }
    const auto p = priv::plan(priv::Worker::Status, conf::Config{});
    const int code = inWorker(priv::Worker::Status, p, [&] {
        const std::uint64_t want = 1ull << CAP_NET_BIND_SERVICE;
        for (const char* k : {"CapEff", "CapPrm", "CapBnd"})
            if (std::stoull(status(k), nullptr, 16) != want) return 1;
        if (status("NoNewPrivs") != "1" || status("Seccomp") != "2") return 2;
        if (run("/bin/true") != 126) return 3;
        // root still owns the file, yet it cannot be written, created, truncated or moved
        for (int flags : {O_WRONLY, O_RDWR, O_WRONLY | O_APPEND, O_RDONLY | O_TRUNC, O_RDONLY | O_CREAT})
            if (::open(existing.c_str(), flags | O_CLOEXEC, 0600) >= 0 || errno != EPERM) return 4;
        if (::open((d + "/new").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) >= 0 || errno != EPERM)
            return 5;
        if (::open(d.c_str(), O_TMPFILE | O_RDWR, 0600) >= 0 || errno != EPERM) return 6;
        if (::unlink(existing.c_str()) == 0 || errno != EPERM) return 7;
        if (::rename(existing.c_str(), (d + "/moved").c_str()) == 0 || errno != EPERM) return 8;
        if (::chmod(existing.c_str(), 0666) == 0 || errno != EPERM) return 9;
        if (::mkdir((d + "/sub").c_str(), 0700) == 0 || errno != EPERM) return 10;
        if (::truncate(existing.c_str(), 0) == 0 || errno != EPERM) return 11;
        // what it does still works: reading, a listener on a low port
        const int r = ::open(existing.c_str(), O_RDONLY | O_CLOEXEC);
        if (r < 0) return 12;
        ::close(r);
        const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(1009);  // below 1024: CAP_NET_BIND_SERVICE (in use: fine, it was not refused)
        if (s < 0) return 13;
        if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EADDRINUSE) return 14;
        ::close(s);
        return 0;
    });
    CHECK(code == 0);
    std::ifstream in(existing);
    std::string line;
    std::getline(in, line);
    CHECK(line == "root's file");
    std::filesystem::remove_all(d);
}

TEST_CASE("privileges: the fwd worker keeps one capability, runs nothing, and its filter refuses", "[root]") {
    const auto p = priv::plan(priv::Worker::Fwd, conf::Config{});
    const int code = inWorker(priv::Worker::Fwd, p, [] {
        const std::uint64_t want = 1ull << CAP_NET_BIND_SERVICE;
        for (const char* k : {"CapEff", "CapPrm", "CapBnd"})
            if (std::stoull(status(k), nullptr, 16) != want) return 1;
        if (std::stoull(status("CapInh"), nullptr, 16) != 0 || std::stoull(status("CapAmb"), nullptr, 16) != 0)
            return 2;
        if (status("NoNewPrivs") != "1" || status("Seccomp") != "2") return 3;
        if (run("/bin/true") != 126) return 4;  // execve: EPERM
        if (::mount("none", "/mnt", "tmpfs", 0, nullptr) == 0 || errno != EPERM) return 5;
        if (::unshare(CLONE_NEWNET) == 0 || errno != EPERM) return 6;
        // what forwarding needs still works: sockets, a bind
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) return 7;
        ::close(s);
        // no way back: root's capabilities are gone for good
        if (::setuid(0) != 0) return 8;
        if (std::stoull(status("CapEff"), nullptr, 16) != want) return 9;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("privileges: a worker without CAP_KILL still kills its script past the timeout", "[root]") {
    // A script as nobody that would run for a minute: without CAP_KILL a plain kill() is EPERM,
    // and the probe would wait for the script's own end. The worker signals it as its user.
    const auto p = priv::plan(priv::Worker::Lvs, withScriptUser(""));
    const int code = inWorker(priv::Worker::Lvs, p, [] {
        if ((std::stoull(status("CapEff"), nullptr, 16) & (1ull << CAP_KILL)) != 0) return 1;
        asio::io_context io;
        healthcheck::ScriptProbe probe(
            io, healthcheck::ScriptSpec{{"/bin/sh", "-c", "echo $$; exec sleep 60"}, "nobody",
                                        std::chrono::milliseconds(300), false, std::nullopt});
        healthcheck::ProbeResult result;
        bool done = false;
        const auto start = std::chrono::steady_clock::now();
        probe.run([&](const healthcheck::ProbeResult& r) {
            result = r;
            done = true;
        });
        io.run_for(std::chrono::seconds(20));
        if (!done) return 2;
        if (std::chrono::steady_clock::now() - start > std::chrono::seconds(15)) return 3;
        if (result.failure != healthcheck::Failure::ScriptTimeout) return 4;
        const pid_t script = static_cast<pid_t>(std::stol(result.output));
        if (::kill(script, 0) == 0 || errno != ESRCH) return 5;  // killed and reaped
        if (::geteuid() != 0 || ::getuid() != 0) return 6;      // back to itself
        if ((std::stoull(status("CapEff"), nullptr, 16) & (1ull << CAP_NET_ADMIN)) == 0) return 7;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("privileges: the vrrp worker keeps what it and its scripts need, and runs them", "[root]") {
    const auto p = priv::plan(priv::Worker::Vrrp, withScriptUser(""));
    const int code = inWorker(priv::Worker::Vrrp, p, [] {
        const std::uint64_t want = mask({CAP_NET_RAW, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID});
        for (const char* k : {"CapEff", "CapPrm", "CapBnd"})
            if (std::stoull(status(k), nullptr, 16) != want) return 1;
        if (status("NoNewPrivs") != "1" || status("Seccomp") != "2") return 3;
        if (run("/bin/true") != 0) return 4;  // scripts run
        if (::mount("none", "/mnt", "tmpfs", 0, nullptr) == 0 || errno != EPERM) return 5;
        const int raw = ::socket(AF_INET, SOCK_RAW, 112);  // VRRP's socket
        if (raw < 0) return 6;
        ::close(raw);
        return 0;
    });
    CHECK(code == 0);
}
