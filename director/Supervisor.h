// Supervisor: the parent process of directord (DESIGN.md, process model). It forks the `vrrp` and
// `lvs` workers from this same binary (no exec: each child starts from the supervisor's last good
// config in memory), restarts a worker that dies (back-off 1 s doubling to 30 s, reset after 60 s of
// good health), validates a new config on SIGHUP before forwarding it, forwards SIGTERM/SIGINT and
// SIGUSR1, and relays the workers' channel lines (replaying VRRP roles to a restarted lvs worker).
// It runs no Asio: a poll loop on a signalfd and the workers' sockets, so forking stays clean.
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>

#include "conf/Config.h"

namespace director {

// A worker's body: runs in the child with the config and its end of the supervisor socket, returns
// the exit status. kExitConfig means "restarting will not help" and stops the director.
using WorkerMain = std::function<int(const conf::Config& cfg, int channelFd)>;
inline constexpr int kExitConfig = 78;  // EX_CONFIG

class Supervisor {
public:
    Supervisor(conf::Config cfg, WorkerMain lvs, WorkerMain vrrp, int pidFileFd);
    int run();

private:
    struct Worker {
        std::string name;
        WorkerMain main;
        pid_t pid = -1;
        int fd = -1;
        std::string inbuf;
        int restarts = 0;      // consecutive quick deaths, for the back-off
        double startedAt = 0;  // monotonic seconds
        double restartAt = 0;  // 0: not scheduled
    };

    void spawn(Worker& w);
    void reap();
    void readFrom(Worker& w);
    void relay(Worker& from, const std::string& line);
    void sendTo(Worker& w, const std::string& line);
    void reload();
    void signalWorkers(int sig);
    bool anyAlive() const;

    conf::Config cfg_;
    Worker lvs_, vrrp_;
    int pidFileFd_;
    int sigFd_ = -1;
    bool stopping_ = false;
    bool fatal_ = false;
    double stopDeadline_ = 0;
    std::map<std::string, std::string> roles_;  // last role line per VRRP instance
};

double monotonicSeconds();

}  // namespace director
