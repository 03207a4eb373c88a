#include "base/Datagram.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace base {

std::optional<Datagram> receiveDatagram(int fd, std::span<std::uint8_t> buf, int flags) {
    sockaddr_storage from{};
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) std::uint8_t control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | flags);
    if (n < 0) return std::nullopt;
    Datagram d;
    d.length = static_cast<std::size_t>(n);
    d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    if (from.ss_family == AF_INET)
        d.source = IpAddress::fromBytes(
            Family::V4, reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&from)->sin_addr));
    else if (from.ss_family == AF_INET6)
        d.source = IpAddress::fromBytes(
            Family::V6, reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
            std::memcpy(&d.ttl, CMSG_DATA(c), sizeof d.ttl);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            d.ifindex = pi.ipi_ifindex;
            d.destination = IpAddress::fromBytes(Family::V4, reinterpret_cast<const std::uint8_t*>(&pi.ipi_addr));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            d.ifindex = static_cast<int>(pi.ipi6_ifindex);
            d.destination = IpAddress::fromBytes(Family::V6, reinterpret_cast<const std::uint8_t*>(&pi.ipi6_addr));
        }
    }
    return d;
}

}  // namespace base
