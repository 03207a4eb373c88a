#include "director/Privileges.h"

#include <linux/securebits.h>
#include <pwd.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "conf/ScriptSecurity.h"

namespace director::privileges {
namespace {

bool runsAsRoot(const conf::Config& cfg, const std::string& user) {
    const std::string& name = user.empty() ? cfg.global.scriptUser : user;
    if (name == "root") return true;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    return ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found && pw.pw_uid == 0;
}

// The first of this worker's commands that runs as root, as "what (command)".
std::optional<std::string> rootScript(Worker w, const conf::Config& cfg) {
    for (const auto& c : conf::scriptCommands(cfg))
        if (c.vrrp == (w == Worker::Vrrp) && runsAsRoot(cfg, c.user)) return c.label + " (" + c.cmd->str() + ")";
    return std::nullopt;
}

bool hasCheck(const conf::Config& cfg, conf::CheckType type) {
    for (const auto& vs : cfg.virtualServers)
        for (const auto& rs : vs.realServers)
            for (const auto& c : rs.checks)
                if (c.type == type) return true;
    return false;
}

std::string capName(int c) {
    char* n = cap_to_name(static_cast<cap_value_t>(c));
    std::string out = n ? n : std::to_string(c);
    if (n) cap_free(n);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return std::toupper(ch); });
    return out;
}

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

const char* workerName(Worker w) {
    switch (w) {
    case Worker::Lvs: return "lvs";
    case Worker::Vrrp: return "vrrp";
    case Worker::Fwd: return "fwd";
    case Worker::Status: return "status";
    }
    return "?";
}

Plan plan(Worker w, const conf::Config& cfg) {
    Plan p;
    switch (w) {
    case Worker::Fwd:
    case Worker::Status:
        p.caps = {CAP_NET_BIND_SERVICE};
        p.execs = false;
        return p;
    case Worker::Vrrp: p.caps = {CAP_NET_RAW, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID}; break;
    case Worker::Lvs:
        p.caps = {CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID};
        if (hasCheck(cfg, conf::CheckType::Ping)) p.caps.push_back(CAP_NET_RAW);  // the ping checks' raw ICMP sockets
        // BFD's port 3784 / 4784, for bfd checks and the sessions VRRP tracks (the lvs worker runs both)
        if (hasCheck(cfg, conf::CheckType::Bfd) ||
            std::any_of(cfg.vrrpInstances.begin(), cfg.vrrpInstances.end(),
                        [](const conf::VrrpInstance& v) { return !v.trackBfds.empty(); }))
            p.caps.push_back(CAP_NET_BIND_SERVICE);
        break;
    }
    // global.script_user root: any script a reload adds runs as root, so keep what it would need
    if (runsAsRoot(cfg, "")) {
        p.everything = true;
        p.why = "global.script_user is " + cfg.global.scriptUser;
    } else if (auto r = rootScript(w, cfg)) {
        p.everything = true;
        p.why = *r + " runs as root";
    }
    return p;
}

bool covers(const Plan& running, const Plan& next) {
    if (running.everything) return true;
    if (next.everything) return false;
    return std::all_of(next.caps.begin(), next.caps.end(), [&](int c) {
        return std::find(running.caps.begin(), running.caps.end(), c) != running.caps.end();
    });
}

std::string describe(const Plan& p) {
    if (p.everything) return "every capability (" + p.why + ")";
    std::string out;
    for (int c : p.caps) out += (out.empty() ? "" : ", ") + capName(c);
    return out.empty() ? "none" : out;
}

bool installFilter(Worker w, bool execs, std::string& why) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        why = "seccomp_init failed";
        return false;
    }
    // What no worker does: change the system (mounts, modules, clocks, reboot, swap, names), reach
    // into other processes, or open the kernel's larger attack surfaces (BPF, perf, keyrings,
    // io_uring, userfaultfd, namespaces). Refused with EPERM, so a bug that reaches one fails
    // instead of killing the worker mid-operation.
    static const char* const denied[] = {
        "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount",
        "open_tree", "mount_setattr", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "reboot", "swapon", "swapoff", "process_vm_readv", "process_vm_writev", "bpf",
        "perf_event_open", "keyctl", "add_key", "request_key", "setns", "unshare", "open_by_handle_at",
        "name_to_handle_at", "userfaultfd", "iopl", "ioperm", "acct", "settimeofday", "clock_settime",
        "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "quotactl", "lookup_dcookie", "kcmp",
        "fanotify_init", "syslog", "vhangup", "uselib", "io_uring_setup", "io_uring_enter", "io_uring_register",
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        "ptrace",  // LeakSanitizer stops the world with it at exit
#endif
    };
    bool ok = true;
    auto deny = [&](const char* name) {
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) return;  // not on this architecture
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0) {
            why = std::string("seccomp: cannot add a rule for ") + name;
            ok = false;
        }
    };
    for (const char* n : denied) deny(n);
    if (!execs) {
        deny("execve");
        deny("execveat");
    }
    if (w == Worker::Status) {
        // It writes no file. Still root (uid 0 owns most of the system's files), so what its
        // capabilities do not stop, this does: no open for writing or creating, and none of the
        // calls that change a name, an owner or a mode.
        static const char* const writes[] = {
            "creat",  "truncate", "unlink",  "unlinkat", "rename", "renameat", "renameat2", "link",     "linkat",
            "symlink", "symlinkat", "mkdir",  "mkdirat",  "rmdir",  "mknod",    "mknodat",   "chmod",    "fchmod",
            "fchmodat", "chown",  "fchown",  "lchown",   "fchownat", "utimes",  "utimensat", "futimesat", "setxattr",
            "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
        };
        for (const char* n : writes) deny(n);
        auto denyFlags = [&](const char* name, unsigned arg) {
            const int nr = seccomp_syscall_resolve_name(name);
            if (nr == __NR_SCMP_ERROR) return;
            // any of the writing flags set: refused (O_TMPFILE's bits include O_DIRECTORY's, so a
            // masked test per flag, not one mask)
            for (scmp_datum_t flag : {scmp_datum_t(O_WRONLY), scmp_datum_t(O_RDWR), scmp_datum_t(O_CREAT),
                                      scmp_datum_t(O_TRUNC), scmp_datum_t(O_APPEND), scmp_datum_t(__O_TMPFILE)}) {
                if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, flag, flag)) !=
                    0) {
                    why = std::string("seccomp: cannot add a rule for ") + name;
                    ok = false;
                }
            }
        };
        denyFlags("open", 1);
        denyFlags("openat", 2);
        deny("openat2");  // its flags are in a struct the filter cannot read
    }
    if (ok && seccomp_load(ctx) != 0) {
        why = "seccomp_load failed";
        ok = false;
    }
    seccomp_release(ctx);
    return ok;
}

bool apply(Worker w, const Plan& p, std::string& why) {
    why.clear();
    if (::geteuid() != 0) return false;
    if (!p.everything) {
        if (!p.execs &&
            ::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                           SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                                           SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) != 0) {
            why = errnoText("prctl(PR_SET_SECUREBITS)");
            return false;
        }
        const int last = static_cast<int>(cap_max_bits()) - 1;
        for (int c = 0; c <= last; ++c) {
            if (std::find(p.caps.begin(), p.caps.end(), c) != p.caps.end()) continue;
            if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
                why = errnoText("prctl(PR_CAPBSET_DROP)");
                return false;
            }
        }
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        cap_t caps = cap_init();
        std::vector<cap_value_t> values(p.caps.begin(), p.caps.end());
        const int n = static_cast<int>(values.size());
        const bool set = !caps || (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, values.data(), CAP_SET) != 0 ||
                                             cap_set_flag(caps, CAP_EFFECTIVE, n, values.data(), CAP_SET) != 0));
        if (set || cap_set_proc(caps) != 0) {
            why = errnoText("cap_set_proc");
            if (caps) cap_free(caps);
            return false;
        }
        cap_free(caps);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        why = errnoText("prctl(PR_SET_NO_NEW_PRIVS)");
        return false;
    }
    return installFilter(w, p.execs, why);
}

}  // namespace director::privileges
