// directord: the director daemon. See README.md; `directord -h` for the options.
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "base/Log.h"
#include "conf/Dump.h"
#include "conf/KeepalivedImport.h"
#include "conf/Loader.h"
#include "director/lvs/Announcer.h"
#include "director/Daemon.h"
#include "director/Genhash.h"
#include "director/HostCheck.h"
#include "director/lvs/LvsWorker.h"
#include "director/lvs/Planes.h"
#include "director/PidFile.h"
#include "director/Supervisor.h"
#include "director/vrrp/ProcessWatch.h"
#include "healthcheck/TrackedFile.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/directord/directord.conf";

void usage(std::FILE* out) {
    std::fprintf(out,
                 "Usage: directord [options]\n"
                 "  -f, --config FILE     configuration file (default %s)\n"
                 "  -t, --test            check the configuration and exit: 0 if it is good\n"
                 "      --dump-config     print the configuration in canonical form (defaults filled in)\n"
                 "      --single-process  run VRRP and LVS in one process (tests, debugging)\n"
                 "  -l, --log-level LEVEL debug, info, notice, warning, error (overrides global.log_level)\n"
                 "      --syslog          log to syslog instead of stderr\n"
                 "  -p, --pid-file FILE   pid file (overrides global.pid_file)\n"
                 "      --genhash URL     print the MD5 digest of URL's body, for an http/https check's digest\n"
                 "                        (-V with it: also the status); like keepalived's genhash\n"
                 "      --import-keepalived FILE\n"
                 "                        print the directord config equivalent to a keepalived.conf; each keyword\n"
                 "                        not carried over is reported as file:line: keyword: why (exit 1)\n"
                 "      --config-id ID    with --import-keepalived: keepalived's -i, for @ID lines\n"
                 "      --withdraw        remove every VIP route global.announce put in its table (after a\n"
                 "                        crash of the whole daemon: the systemd unit's ExecStopPost)\n"
                 "  -v, --version         print the version\n"
                 "  -h, --help            this help\n"
                 "Signals: SIGHUP reloads the configuration, SIGTERM stops, SIGUSR1 writes a JSON state dump\n"
                 "(global.state_dump_file).\n",
                 kDefaultConfig);
}

// --import-keepalived: the config on stdout, what was not carried over on stderr. Exit 0: complete;
// 1: something was left out, or the result does not load here; 2: the file cannot be read.
int importKeepalived(const std::string& file, const std::string& configId) {
    const conf::ImportResult r = conf::importKeepalived(file, configId);
    if (!r.readable) {
        bool said = false;
        for (const auto& d : r.left) {
            if (d.line == 0 && d.file == file && d.path.empty()) {  // the file itself
                std::fprintf(stderr, "directord: cannot import %s: %s\n", file.c_str(), d.message.c_str());
                said = true;
            } else {
                std::fprintf(stderr, "%s\n", d.str().c_str());
            }
        }
        if (!said) std::fprintf(stderr, "directord: cannot import %s\n", file.c_str());
        return 2;
    }
    std::fputs(r.text.c_str(), stdout);
    for (const auto& d : r.left) std::fprintf(stderr, "%s\n", d.str().c_str());
    for (const auto& d : r.loadErrors) std::fprintf(stderr, "directord -t would say: %s\n", d.str().c_str());
    if (r.complete()) {
        std::fprintf(stderr, "directord: %s imported completely\n", file.c_str());
        return 0;
    }
    std::fprintf(stderr, "directord: %s imported with %zu keyword(s) not carried over%s\n", file.c_str(), r.left.size(),
                 r.loadErrors.empty() ? "" : ", and the result does not load here as it is");
    return 1;
}

struct Options {
    std::string config = kDefaultConfig;
    bool test = false;
    bool dump = false;
    bool withdraw = false;
    bool single = false;
    bool syslog = false;
    std::optional<std::string> logLevel, pidFile, genhashUrl, importFile, configId;
    bool verbose = false;
};

// setns(2) into /run/netns/NAME (where `ip netns add` puts it; /var/run/netns is the same on
// Debian, tried too for older layouts).
bool enterNetNamespace(const std::string& name, std::string& why) {
    for (const char* dir : {"/run/netns/", "/var/run/netns/"}) {
        const std::string path = dir + name;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        const int rc = ::setns(fd, CLONE_NEWNET);
        const int err = errno;
        ::close(fd);
        if (rc == 0) return true;
        why = "cannot enter network namespace " + name + " (" + path + "): " + std::strerror(err) +
              " (directord needs CAP_SYS_ADMIN to change namespace)";
        return false;
    }
    why = "global.net_namespace: no network namespace " + name + " in /run/netns (make it with `ip netns add " + name +
          "`, or fix the name)";
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // A peer that went away (a closed connection, a notify fifo without its reader) is an EPIPE to
    // handle where it happens, never a signal that kills the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    // net-snmp (the SNMP subagent) would load every MIB file it finds to name OIDs; it needs none.
    // Set here, before any thread exists (setenv is not thread-safe).
    ::setenv("MIBS", "", 1);
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* what) -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "directord: %s needs %s\n", a.c_str(), what);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "-f" || a == "--config") o.config = value("a file");
        else if (a == "-t" || a == "--test") o.test = true;
        else if (a == "--dump-config") o.dump = true;
        else if (a == "--withdraw") o.withdraw = true;
        else if (a == "--single-process") o.single = true;
        else if (a == "--genhash") o.genhashUrl = value("a URL");
        else if (a == "--import-keepalived") o.importFile = value("a keepalived.conf");
        else if (a == "--config-id") o.configId = value("an id");
        else if (a == "-V") o.verbose = true;
        else if (a == "--syslog") o.syslog = true;
        else if (a == "-l" || a == "--log-level") o.logLevel = value("a level");
        else if (a == "-p" || a == "--pid-file") o.pidFile = value("a file");
        else if (a == "-v" || a == "--version") {
            std::printf("directord %s\n", DIRECTORD_VERSION);
            return 0;
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "directord: unknown option '%s'\n", a.c_str());
            usage(stderr);
            return 2;
        }
    }

    if (o.genhashUrl) return director::genhash(*o.genhashUrl, o.verbose, 5.0);
    if (o.importFile) return importKeepalived(*o.importFile, o.configId.value_or(conf::keepalivedConfigId()));

    // SIGHUP (reload) and SIGUSR1 (state dump) kill a process by default: one sent while directord
    // starts (an operator's reload just after a restart) would stop it. Held until the supervisor's
    // signalfd, or the single process's handlers, take them; its children inherit the mask and
    // unblock once their own handlers exist. SIGTERM and SIGINT keep their default: stop.
    {
        sigset_t held;
        sigemptyset(&held);
        sigaddset(&held, SIGHUP);
        sigaddset(&held, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &held, nullptr);
    }

    conf::LoadResult loaded = conf::loadFile(o.config);
    if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
        std::fprintf(stderr, "directord: %zu error(s) in %s; configuration not loaded\n", loaded.diagnostics.size(),
                     o.config.c_str());
        return 1;
    }
    conf::Config cfg = std::move(*loaded.config);
    // keepalived's net_namespace: everything from here on (the plane's probe, every socket, the
    // workers) lives in that namespace; -t checks the host as seen from there
    if (!cfg.global.netNamespace.empty()) {
        std::string why;
        if (!o.test && !cfg.trackProcesses.empty()) {
            // the kernel's process events exist in the initial namespace only: open them here
            const int fd = director::vrrp::openProcessEvents(why);
            if (fd >= 0) director::vrrp::preopenProcessEvents(fd);
            why.clear();  // else the vrrp worker tries again and says why
        }
        if (!enterNetNamespace(cfg.global.netNamespace, why)) {
            if (!o.test) {
                std::fprintf(stderr, "directord: %s\n", why.c_str());
                return 1;
            }
            std::fprintf(stderr, "warning: %s (the checks below look at the current namespace)\n", why.c_str());
        }
    }
    if (o.test) {
        // what the file cannot say: does this host have what it names (warnings; exit 0)
        const auto warnings = director::hostWarnings(cfg, director::thisHost());
        if (warnings.empty()) std::printf("configuration OK: %s\n", o.config.c_str());
        else
            std::printf("configuration OK: %s (%zu warning(s): it would not run as written on this host)\n",
                        o.config.c_str(), warnings.size());
        std::fflush(stdout);  // the verdict first, then the warnings
        for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
        return 0;
    }
    if (o.dump) {
        std::fputs(conf::dump(cfg).c_str(), stdout);
        return 0;
    }
    if (o.withdraw) {
        const auto& an = cfg.global.announce;
        if (!an.enabled) return 0;
        director::lvs::RouteTable routes(an.table, an.protocol);
        const auto had = routes.current();
        if (auto ec = routes.withdrawAll()) {
            std::fprintf(stderr, "directord: cannot withdraw from routing table %d: %s\n", an.table,
                         ec.message().c_str());
            return 1;
        }
        std::fprintf(stderr, "directord: withdrew %zu VIP route(s) from routing table %d\n", had.size(), an.table);
        return 0;
    }

    const std::string level = o.logLevel.value_or(cfg.global.logLevel);
    auto parsed = base::log::parseLevel(level);
    if (!parsed) {
        std::fprintf(stderr, "directord: unknown log level '%s'\n", level.c_str());
        return 2;
    }
    base::log::setLevel(*parsed);
    base::log::useSyslog(o.syslog || cfg.global.logTarget == conf::LogTarget::Syslog);
    if (o.pidFile) cfg.global.pidFile = *o.pidFile;

    // As many descriptors as the system allows (connections, flows and checks each need some);
    // the userspace plane budgets them (global.userspace).
    rlimit fds{};
    if (::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
        fds.rlim_cur = fds.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &fds);
    }
    if (::getrlimit(RLIMIT_NOFILE, &fds) == 0)
        base::log::info("directord: up to ", static_cast<unsigned long long>(fds.rlim_cur), " file descriptors");
    std::string why;
    auto pid = director::PidFile::acquire(cfg.global.pidFile, why);
    if (!pid) {
        base::log::error(why);
        return 1;
    }
    for (const auto& f : cfg.trackFiles)  // keepalived's init_file: at start only, never on a reload
        if (f.initValue && !healthcheck::initTrackedFile(f.path, *f.initValue, f.initOverwrite, why))
            base::log::warning("track_file ", f.name, ": init_file: ", why);
    const auto plane = director::lvs::resolvePlane(cfg);
    if (!plane) {
        base::log::error("directord cannot run with this configuration; stopping directord (see the error above)");
        return 1;
    }
    if (o.single) return director::runSingleProcess(cfg, *plane);
    // Each worker forgets the pid file (it belongs to the supervisor) before it runs.
    auto body = [&pid](int (*run)(const director::WorkerContext&)) {
        return [&pid, run](const director::WorkerContext& ctx) {
            pid->forget();
            return run(ctx);
        };
    };
    director::Supervisor supervisor(
        cfg, *plane, {body(director::runLvsWorker), body(director::runVrrpWorker), body(director::runForwardingWorker),
         body(director::runStatusWorker)},
        pid->fd());
    return supervisor.run();
}
