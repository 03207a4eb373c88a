// Privileges: what each worker keeps of root (docs/ARCHITECTURE.md, "Privileges"). The supervisor
// keeps everything (it forks the workers and reads the config); each worker, right after the
// fork and before it reads anything from the network, drops to the capabilities its own work
// needs, sets no_new_privs and installs a seccomp filter of the syscalls no worker has a use for:
//
//   fwd   CAP_NET_BIND_SERVICE (the userspace plane's listeners on low ports). It runs no
//         programs: root gains nothing on exec (SECBIT_NOROOT) and execve itself is refused.
//   vrrp  CAP_NET_RAW, CAP_NET_ADMIN (adverts, VIPs, ARP), CAP_SETUID, CAP_SETGID (its
//         scripts, as their users; a script past its timeout is killed with the thread's euid set to
//         its user for the call, so no CAP_KILL, which would reach every process).
//   lvs   CAP_NET_ADMIN (IPVS, nftables, conntrack, routes), CAP_SETUID, CAP_SETGID
//         (check and notify scripts, killed as the vrrp worker's are).
//   status  CAP_NET_BIND_SERVICE (the HTTP status listener on a low port). It runs no programs
//         and writes no file (opening one for writing, creating, renaming, removing and changing
//         owners or modes are refused): a bug in the HTTP parser or net-snmp reaches nothing.
//
// A script that runs as root gets what its worker has (no_new_privs), so when the config runs
// any of a worker's scripts as root, or global.script_user is root (a reload may add scripts),
// that worker keeps every capability, as keepalived does, and says so; the default script_user
// (nobody) lets it drop them. A reload cannot give a worker back what it dropped: one that would
// needs a restart of directord (the supervisor refuses it and says so). The plan is pure (config in,
// capabilities out); apply() does the system calls.
#pragma once
#include <string>
#include <vector>

#include "conf/Config.h"

namespace director::privileges {

enum class Worker { Lvs, Vrrp, Fwd, Status };
const char* workerName(Worker w);

struct Plan {
    bool everything = false;  // a script of this worker runs as root: keep every capability
    std::vector<int> caps;    // otherwise: the capabilities kept (CAP_* numbers)
    bool execs = true;        // runs programs (scripts); false: execve refused, no root on exec
    std::string why;          // for the log: which script keeps everything
};
Plan plan(Worker w, const conf::Config& cfg);

// Whether a worker running with `running` can take `next` in place (false: its scripts would need
// capabilities it gave up at start; only a restart of directord gives them back).
bool covers(const Plan& running, const Plan& next);

// Drops to the plan and installs the worker's seccomp filter. Called in the worker, as root, before
// anything else; on failure the worker exits (a worker with more than it should have is a bug).
// When not root (tests as a user, --single-process as a user) there is nothing to drop: false
// with `why` empty.
bool apply(Worker w, const Plan& p, std::string& why);

// The seccomp filter alone (what apply() installs after the capabilities), for tests.
bool installFilter(Worker w, bool execs, std::string& why);

// "CAP_NET_RAW, CAP_NET_ADMIN" for logs and status.
std::string describe(const Plan& p);

}  // namespace director::privileges
