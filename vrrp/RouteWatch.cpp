// NetHost's watch on its own routes and rules (protocol 18, keepalived's): a socket of its own on
// rtnetlink's route and rule groups (a routing daemon's churn never delays the link watcher), which
// counts deletions of ours. Whoever keeps routes present (an instance while master, the worker's
// static routes) compares the count with what it saw and puts back what is missing.
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/Log.h"
#include "vrrp/Net.h"

namespace vrrp {

namespace {

constexpr std::uint8_t kOurProtocol = 18;

size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

}  // namespace

int ownRouteDeletions(std::span<const std::uint8_t> bytes) {
    int out = 0;
    size_t off = 0;
    while (off + sizeof(nlmsghdr) <= bytes.size()) {
        nlmsghdr h;
        std::memcpy(&h, bytes.data() + off, sizeof h);
        if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > bytes.size()) break;
        const auto body = bytes.subspan(off + sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr));
        off += align4(h.nlmsg_len);
        if (h.nlmsg_type == RTM_DELROUTE && body.size() >= sizeof(rtmsg)) {
            rtmsg r;
            std::memcpy(&r, body.data(), sizeof r);
            out += r.rtm_protocol == kOurProtocol;
        } else if (h.nlmsg_type == RTM_DELRULE && body.size() >= sizeof(fib_rule_hdr)) {
            // the protocol is an attribute (FRA_PROTOCOL, Linux 4.17)
            for (size_t a = align4(sizeof(fib_rule_hdr)); a + sizeof(nlattr) <= body.size();) {
                nlattr at;
                std::memcpy(&at, body.data() + a, sizeof at);
                if (at.nla_len < sizeof(nlattr) || a + at.nla_len > body.size()) break;
                if ((at.nla_type & NLA_TYPE_MASK) == FRA_PROTOCOL && at.nla_len >= sizeof(nlattr) + 1)
                    out += body[a + sizeof(nlattr)] == kOurProtocol;
                a += align4(at.nla_len);
            }
        }
    }
    return out;
}

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
                ownRouteDeletions({routeBuf_.data(), static_cast<size_t>(n)}));
        }
        readRouteEvents();
    });
}

}  // namespace vrrp
