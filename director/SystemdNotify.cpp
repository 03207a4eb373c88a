#include "director/SystemdNotify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/Log.h"

namespace director {

SystemdNotify::SystemdNotify() {
    const char* sock = std::getenv("NOTIFY_SOCKET");
    const char* usec = std::getenv("WATCHDOG_USEC");
    const char* pid = std::getenv("WATCHDOG_PID");
    if (usec && (!pid || std::strtoll(pid, nullptr, 10) == ::getpid())) {
        const long long us = std::strtoll(usec, nullptr, 10);
        if (us > 0) watchdog_ = static_cast<double>(us) / 2e6;
    }
    if (sock && *sock) path_ = sock;
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    if (path_.empty()) {
        watchdog_.reset();
        return;
    }
    if (path_.size() >= sizeof(sockaddr_un::sun_path) || (path_[0] != '/' && path_[0] != '@')) {
        base::log::error("systemd: NOTIFY_SOCKET=", path_, " is not a unix socket path; not notifying systemd");
        watchdog_.reset();
        return;
    }
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        base::log::error("systemd: cannot open a notify socket: ", std::strerror(errno));
        watchdog_.reset();
    }
}

SystemdNotify::~SystemdNotify() {
    if (fd_ >= 0) ::close(fd_);
}

void SystemdNotify::send(const std::string& state) {
    if (fd_ < 0) return;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path_.data(), path_.size());
    if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';  // abstract namespace: no terminating NUL
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + (path_[0] == '/'));
    if (::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa), len) >= 0) {
        saidError_ = false;
        return;
    }
    if (!saidError_)
        base::log::error("systemd: cannot notify ", path_, ": ", std::strerror(errno),
                         " (is this directord still run by systemd?)");
    saidError_ = true;
}

void SystemdNotify::reloading() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const long long us = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(us) + "\nSTATUS=reloading");
}

}  // namespace director
