// ProcessWatch: keepalived's vrrp_track_process. Counts the running processes of each kind
// (conf::TrackProcess: by process name, or argv[0] and arguments) from the kernel's process events
// (the proc connector: fork, exec, comm change, exit), after one walk of /proc at start, and never
// polls. A fork adds the child to the kinds its parent counts for (as keepalived: a forked child is
// the same program), an exec or a name change reads the process again, an exit removes it; threads
// are not processes. Lost events (the socket's buffer overran) make it walk /proc again. Needs
// CAP_NET_ADMIN (the vrrp worker keeps it) and the initial user and PID namespaces.
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/Asio.h"
#include "conf/Config.h"

namespace director::vrrp {

// One process as the matching sees it: its name and its raw command line (arguments NUL-separated).
struct ProcessImage {
    std::string comm;
    std::string cmdline;
};

// keepalived's rule (core/track_process.c): the name, or argv[0] with full_command, equals
// `process` exactly; then the arguments per param_match.
bool processMatches(const conf::TrackProcess& t, const ProcessImage& p);

// A socket on the kernel's process events connector, bound and subscribed; -1 with `why`. The
// connector lives in the initial network namespace only: directord opens it before entering
// global.net_namespace (as keepalived does) and hands it down with preopenProcessEvents().
int openProcessEvents(std::string& why);
// The socket ProcessWatch uses (a duplicate of it) instead of opening one in its own namespace.
void preopenProcessEvents(int fd);

class ProcessWatch {
public:
    // `changed(name, up)` when a kind's state changes (after its delays).
    using Changed = std::function<void(const std::string& name, bool up)>;
    ProcessWatch(asio::io_context& io, Changed changed);
    ~ProcessWatch();
    // The kinds to count: kinds whose definition is unchanged keep their processes and state;
    // the rest are counted afresh from /proc. False with `why` when the kernel's events cannot
    // be had (the kinds then stay at what /proc said at this call).
    bool configure(const std::vector<conf::TrackProcess>& kinds, std::string& why);
    bool up(const std::string& name) const;
    int count(const std::string& name) const;
    void stop();
    // Counters: events read, walks of /proc for lost events, datagrams dropped (not from the kernel,
    // or an event shorter than its fields).
    std::uint64_t events() const { return events_; }
    std::uint64_t rescans() const { return rescans_; }
    std::uint64_t dropped() const { return foreign_ + malformed_; }

private:
    struct Kind {
        conf::TrackProcess cfg;
        std::set<pid_t> pids;
        bool up = false;
        std::unique_ptr<asio::steady_timer> delay;  // fork_delay or terminate_delay running
        bool delayIsFork = false;
    };
    enum class Cause { Fork, Exit, Other };
    bool open(std::string& why);
    void receive();
    void handle(const char* data, std::size_t len);
    void rescan();
    void readProcess(pid_t pid, const std::string* comm);
    void forked(pid_t parent, pid_t child);
    void exited(pid_t pid);
    void update(Kind& k, Cause cause);
    void settle(Kind& k);
    bool wanted(const Kind& k) const;
    bool needCmdline() const;

    asio::io_context& io_;
    Changed changed_;
    std::unique_ptr<asio::posix::stream_descriptor> socket_;
    std::vector<char> buffer_;
    std::map<std::string, Kind> kinds_;
    std::map<pid_t, std::set<std::string>> byPid_;  // a counted process -> the kinds it counts for
    std::uint64_t events_ = 0, rescans_ = 0;
    std::uint64_t foreign_ = 0, malformed_ = 0;  // datagrams not from the kernel; events cut short
    bool quiet_ = false;  // configure(): states set, nobody told
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace director::vrrp
