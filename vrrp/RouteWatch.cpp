// NetHost's watch on its own routes and rules (protocol 18, keepalived's): a socket of its own on
// rtnetlink's route and rule groups (a routing daemon's churn never delays the link watcher), which
// counts deletions of ours. Whoever keeps routes present (an instance while master, the worker's
// static routes) compares the count with what it saw and puts back what is missing.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/Log.h"
#include "vrrp/Net.h"

namespace vrrp {

int ownRouteDeletions(std::span<const std::uint8_t> bytes) { return parseRtnetlink(bytes).ownRouteDeletions; }

void NetHost::watchRoutes() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) return;
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return;
    }
    for (int g : {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE})
        ::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g);
    routeEvents_.assign(fd);
    readRouteEvents();
}

void NetHost::readRouteEvents() {
    routeEvents_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        while (true) {
            const ssize_t n = ::recv(routeEvents_.native_handle(), routeBuf_.data(), routeBuf_.size(), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == ENOBUFS) ++routeDeletions_;  // events lost: one of ours may have gone
                if (errno == EINTR || errno == ENOBUFS) continue;
                break;
            }
            routeDeletions_ += static_cast<std::uint64_t>(
                parseRtnetlink({routeBuf_.data(), static_cast<size_t>(n)}).ownRouteDeletions);
        }
        readRouteEvents();
    });
}

}  // namespace vrrp
