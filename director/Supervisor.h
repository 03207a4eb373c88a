// Supervisor: the parent process of directord (docs/ARCHITECTURE.md, process model). It reads and
// validates the config (at start and on SIGHUP: workers never read the file), forks the workers
// from this same binary (no exec: each child starts from the supervisor's memory), sends them each
// validated config as one ConfigMsg, routes the typed messages between them, and restarts a worker
// that dies: at once the first time, then with a back-off (1 s doubling to 30 s) for repeated
// deaths, reset after 60 s of good health. A restarted worker starts from what the supervisor
// remembers: the last state of every VRRP instance (the vrrp worker resumes its roles, the lvs and
// forwarding workers know them) and the userspace plane's last table (the forwarding worker
// forwards it, the lvs worker adopts it). Workers:
//   vrrp  VRRP only (its timers never wait behind checker work)
//   lvs   checks, desired state, IPVS programming, the control socket, status
//   fwd   the userspace data plane's forwarding (only when that plane is in use)
//   status  the HTTP status listener and the SNMP subagent (director/status/StatusFront.h), with nothing
//         the lvs worker can do; what it serves comes from the lvs worker
// It runs no Asio: a poll loop on a signalfd and the workers' sockets, so forking stays clean. The
// one other thread is a reload's parse (conf/ and ReloadCheck, which take no lock a worker needs:
// they do not log), so a worker forked while it runs starts clean too.
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "conf/Config.h"
#include "director/Privileges.h"
#include "director/SystemdNotify.h"
#include "director/protocol/Frame.h"
#include "director/protocol/Messages.h"
#include "director/Privileges.h"
#include "director/ReloadCheck.h"
#include "vrrp/StateMachine.h"

namespace director {

// What a worker starts from.
struct WorkerContext {
    const conf::Config& config;
    conf::DataPlane plane;                            // resolved: Kernel, Userspace or Memory
    const std::map<std::string, ::vrrp::State>& roles;  // every VRRP instance's last known state
    const std::string* table;                         // the last TableMsg frame's payload, if any
    const protocol::OperatorMsg& operatorState;      // what the operator set: disabled real servers, withdrawn
    const std::map<std::string, bool>& bfdStates;     // each BFD session as last heard (up): the lvs worker reports changes only
    const std::string* templates;                     // the fwd worker's last TemplatesMsg payload, if any
    int fd;                                           // this worker's end of the supervisor socket
    double heartbeat;  // seconds between two HeartbeatMsg (systemd's watchdog is on); 0: none
};

// What a worker is given of the config, at its start and on every reload: the lvs worker all of
// it; the vrrp and forwarding workers no virtual servers (most of a big config); the status worker
// `global` alone (the listener's and the subagent's settings).
conf::Config workerConfig(privileges::Worker worker, const conf::Config& cfg);

// A worker's body: runs in the child, returns the exit status. kExitConfig means "restarting will
// not help" and stops the director.
using WorkerMain = std::function<int(const WorkerContext&)>;
inline constexpr int kExitConfig = 78;  // EX_CONFIG

struct WorkerMains {
    WorkerMain lvs, vrrp, fwd, status;
};

class Supervisor {
public:
    Supervisor(conf::Config cfg, conf::DataPlane plane, WorkerMains mains, int pidFileFd);
    int run();

private:
    struct Worker {
        std::string name;
        WorkerMain main;
        bool enabled = true;
        pid_t pid = -1;
        int fd = -1;
        protocol::FrameReader in{protocol::kMaxWorkerFrame};
        std::string out;       // frames not yet written (the socket is non-blocking)
        int restarts = 0;      // consecutive quick deaths, for the back-off
        std::uint64_t restartsTotal = 0;  // every restart since the director started (status, metrics)
        std::int64_t startedUnix = 0;     // its current process's start, Unix time
        double startedAt = 0;  // monotonic seconds
        double restartAt = 0;  // 0: not scheduled
        double heardAt = 0;    // its last frame (watchdog: a worker silent too long is hung)
        bool saidHung = false;
        privileges::Plan plan;  // what it was started with (its capabilities cannot grow)
    };
    privileges::Worker privilegeKind(const Worker& w) const;

    void spawn(Worker& w);
    void reap();
    void giveUpMasterRoles(double delay);
    void deliver(const Worker* from, std::uint8_t type, const std::string& frame);
    void readFrom(Worker& w);
    void writeTo(Worker& w);
    void route(Worker& from, const protocol::Frame& f);
    void sendTo(Worker& w, const std::string& frame);
    void closeChannel(Worker& w);
    // A reload: the file is read and checked on a thread of its own (a large config takes seconds,
    // and the supervisor keeps feeding systemd's watchdog and its workers meanwhile); once it is
    // done, commit() sends it to the workers and each requester hears the outcome (`id`: a
    // directorctl reload, answered through the lvs worker; none: SIGHUP). A request that comes
    // during a parse is served by a parse of its own, started after it (the file may have changed).
    void reload(const char* why, std::optional<std::uint64_t> id = std::nullopt);
    void startParse();
    void parseDone();
    protocol::ReloadResultMsg commit(ReloadCheck check, double t0, double parsed);
    struct ReloadWaiter {
        std::string why;
        std::optional<std::uint64_t> id;
    };
    std::vector<ReloadWaiter> parsing_, queued_;  // requesters of the parse in flight, and of the next
    std::thread parser_;
    std::optional<ReloadCheck> parsed_;  // written by the parser thread before it signals parseFd_
    int parseFd_ = -1;                   // eventfd: the parse in flight is done
    double parseStarted_ = 0;
    void applied(const std::string& summary);
    // Tells the lvs worker the supervisor's record (SupervisorStatsMsg), which it shows.
    void tellStats();
    void reloadRefused(const std::vector<std::string>& errors);
    std::int64_t startedUnix_ = 0;
    std::uint64_t reloadFailures_ = 0;
    std::int64_t lastReloadAt_ = 0;
    bool lastReloadOk_ = true;
    std::string lastReloadError_;
    void watchdog(double now);
    void signalWorkers(int sig);
    bool anyAlive() const;
    Worker* byPid(pid_t pid);

    conf::Config cfg_;
    conf::DataPlane plane_;
    Worker lvs_, vrrp_, fwd_, status_;
    int pidFileFd_;
    int sigFd_ = -1;
    bool stopping_ = false;
    bool fatal_ = false;
    double stopDeadline_ = 0;
    std::map<std::string, ::vrrp::State> roles_;  // last state per VRRP instance
    std::map<std::string, bool> bfdStates_;  // each BFD session's state as the lvs worker last said (up)
    std::string table_;                         // last TableMsg payload from the lvs worker
    bool haveTable_ = false;
    std::string templates_;                     // last TemplatesMsg payload from the fwd worker
    bool haveTemplates_ = false;
    protocol::OperatorMsg operator_;  // last OperatorMsg from the lvs worker
    SystemdNotify systemd_;
    bool ready_ = false;      // READY=1 sent
    int pendingConfigs_ = 0;  // configs sent to the lvs worker and not yet applied
    double nextPing_ = 0;     // the next WATCHDOG=1
};

double monotonicSeconds();

}  // namespace director
