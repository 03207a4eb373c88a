// SystemdNotify: systemd's notify protocol (sd_notify(3)) without libsystemd: datagrams such as
// "READY=1\nSTATUS=..." to the unix socket in $NOTIFY_SOCKET ('@' starts an abstract name), and
// the watchdog interval from $WATCHDOG_USEC (for this process when $WATCHDOG_PID says so).
// Built once in the supervisor (or the single process) before any worker exists; it takes the
// variables out of the environment so no child, worker or script ever talks to systemd.
#pragma once
#include <optional>
#include <string>

namespace director {

class SystemdNotify {
public:
    SystemdNotify();
    ~SystemdNotify();
    SystemdNotify(const SystemdNotify&) = delete;
    SystemdNotify& operator=(const SystemdNotify&) = delete;

    bool enabled() const { return fd_ >= 0; }
    // The seconds between two WATCHDOG=1 pings (half of WatchdogSec), when systemd asks for them.
    std::optional<double> pingInterval() const { return watchdog_; }
    // One datagram of newline-separated assignments; a failure is logged once, never fatal.
    void send(const std::string& state);
    void ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }
    // RELOADING=1 with the monotonic time systemd wants from version 253 on.
    void reloading();
    void stopping() { send("STOPPING=1\nSTATUS=stopping"); }
    void ping() { send("WATCHDOG=1"); }

private:
    int fd_ = -1;
    std::string path_;
    std::optional<double> watchdog_;
    bool saidError_ = false;
};

}  // namespace director
