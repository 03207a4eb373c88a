// One datagram from a UDP or raw socket with what the kernel says about it in control messages:
// the one recvmsg + cmsg reader the BFD engine, VRRP's raw sockets and the sync receiver share.
// The socket asks for what it wants (IP_PKTINFO / IPV6_RECVPKTINFO for the destination and
// interface, IP_RECVTTL / IPV6_RECVHOPLIMIT for the TTL); what it did not ask for stays unset.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "base/IpAddress.h"

namespace base {

struct Datagram {
    std::size_t length = 0;  // the datagram's bytes in the buffer (its full length with MSG_TRUNC)
    bool truncated = false;  // longer than the buffer
    std::optional<IpAddress> source;       // the sender (IPv4/IPv6 sockets; none for others)
    std::optional<IpAddress> destination;  // from IP_PKTINFO / IPV6_PKTINFO
    int ifindex = 0;                       // the arrival interface, from the same
    int ttl = -1;                          // IP_TTL / IPV6_HOPLIMIT, -1 when not given
};

// Reads one datagram into `buf` without blocking (MSG_DONTWAIT, plus `flags`: MSG_TRUNC to have
// the full length of a datagram longer than the buffer). nullopt when none waits, or on an error
// (errno tells which).
std::optional<Datagram> receiveDatagram(int fd, std::span<std::uint8_t> buf, int flags = 0);

}  // namespace base
