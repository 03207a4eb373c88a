// ScriptProbe: runs a program with arguments, without a shell, in its own process group, as the
// configured user (when directord runs as root). Exit 0 = up, anything else down; with dynamic
// weight, exits 2..255 mean up with weight = code - 2 (keepalived's misc_dynamic). Past the timeout
// the whole process group is killed. stdout and stderr are captured; the first line is kept.
// The child is watched through a pidfd, so no SIGCHLD handler is involved. It gets none of the
// daemon's descriptors (everything above 2 is closed) and a minimal environment: PATH, HOME, USER,
// LOGNAME and LANG=C only. Run as root, the program must pass script_security (base::safeForRoot)
// just before the fork, as it did at load.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "healthcheck/Probe.h"

namespace healthcheck {

// Looks up a user; nullopt (with `why`) when it does not exist.
struct Credentials {
    uid_t uid;
    gid_t gid;
    std::string name;
    std::string home;
};

struct ScriptSpec {
    std::vector<std::string> argv;
    std::string user;  // empty: run as ourselves
    std::chrono::microseconds timeout{5'000'000};
    bool dynamicWeight = false;
    // `user` already looked up (at load: no name service call on an event loop); else the probe
    // looks it up once, when it is made.
    std::optional<Credentials> credentials;
    bool scriptSecurity = true;  // run as root only what base::safeForRoot accepts
};
std::optional<Credentials> lookupUser(const std::string& user, std::string& why);

class ScriptProbe : public Probe {
public:
    ScriptProbe(asio::io_context& io, ScriptSpec spec);
    ~ScriptProbe() override;
    void run(Done done) override;
    void cancel() override;

private:
    struct Run;
    asio::io_context& io_;
    ScriptSpec spec_;
    std::optional<Credentials> creds_;
    std::string credError_;
    std::shared_ptr<Run> run_;
    std::vector<std::string> env_;  // the child's environment, made once
};

}  // namespace healthcheck
