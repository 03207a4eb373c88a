#include "kmod/sync/SyncSocket.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/Datagram.h"

namespace kmod::sync {
namespace {

int interfaceMtu(const std::string& name) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 1500;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    const int mtu = ::ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
    ::close(fd);
    return mtu;
}

std::error_code lastError() { return base::errnoCode(errno); }

// Closes the descriptor unless released.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

}  // namespace

base::Result<Endpoint> resolve(bool master, const std::string& interface, std::uint32_t syncId, std::uint16_t maxLen,
                               const std::optional<base::IpAddress>& group, std::uint16_t port, std::uint8_t ttl) {
    Endpoint e;
    e.master = master;
    e.interface = interface;
    if (interface.empty() || interface.size() >= IFNAMSIZ) return base::errnoCode(ENODEV);
    e.ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    if (e.ifindex == 0) return base::errnoCode(ENODEV);
    e.syncId = static_cast<std::uint8_t>(syncId);  // 8 bits on the wire, as the kernel truncates it
    e.group = group ? *group : base::IpAddress::v4(kDefaultGroup);
    if (!e.group.isMulticast()) return base::errnoCode(EINVAL);
    e.port = port ? port : kDefaultPort;
    e.ttl = ttl ? ttl : 1;
    const int headers = e.group.isV4() ? 28 : 48;
    if (maxLen == 0) {
        const int mtu = master ? 1500 : std::clamp(interfaceMtu(interface), 1500, 65535);
        e.maxLen = static_cast<std::uint16_t>(mtu - headers);
    } else {
        e.maxLen = static_cast<std::uint16_t>(std::clamp<int>(maxLen, master ? 1 : 1024, 65535 - headers));
    }
    return e;
}

base::Result<int> openSender(const Endpoint& e) {
    const bool v4 = e.group.isV4();
    Fd s{::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) return lastError();
    const int off = 0, ttl = e.ttl;
    if (v4) {
        ip_mreqn mr{};
        mr.imr_ifindex = e.ifindex;
        const int pmtu = IP_PMTUDISC_DONT;
        if (::setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0)
            return lastError();
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(e.port);
        std::memcpy(&to.sin_addr, e.group.bytes().data(), 4);
        if (::connect(s.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return lastError();
    } else {
        const int pmtu = IPV6_PMTUDISC_DONT;
        const unsigned ifindex = static_cast<unsigned>(e.ifindex);
        if (::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0)
            return lastError();
        sockaddr_in6 to{};
        to.sin6_family = AF_INET6;
        to.sin6_port = htons(e.port);
        std::memcpy(&to.sin6_addr, e.group.bytes().data(), 16);
        to.sin6_scope_id = ifindex;
        if (::connect(s.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return lastError();
    }
    return s.release();
}

base::Result<int> openReceiver(const Endpoint& e) {
    const bool v4 = e.group.isV4();
    Fd s{::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) return lastError();
    const int one = 1, off = 0;
    // SO_REUSEADDR as the kernel's own receiver (sk_reuse): a kernel backup daemon on this host
    // and this socket can share the port.
    if (::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return lastError();
    if (v4) {
        if (::setsockopt(s.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof off) != 0)
            return lastError();
        sockaddr_in any{};
        any.sin_family = AF_INET;
        any.sin_port = htons(e.port);
        if (::bind(s.fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return lastError();
        ip_mreqn mr{};
        std::memcpy(&mr.imr_multiaddr, e.group.bytes().data(), 4);
        mr.imr_ifindex = e.ifindex;
        if (::setsockopt(s.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) return lastError();
    } else {
        if (::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0 ||
            ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off, sizeof off) != 0)
            return lastError();
        sockaddr_in6 any{};
        any.sin6_family = AF_INET6;
        any.sin6_port = htons(e.port);
        if (::bind(s.fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return lastError();
        ipv6_mreq mr{};
        std::memcpy(&mr.ipv6mr_multiaddr, e.group.bytes().data(), 16);
        mr.ipv6mr_interface = static_cast<unsigned>(e.ifindex);
        if (::setsockopt(s.fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) return lastError();
    }
    return s.release();
}

long receiveOne(int fd, std::uint8_t* buf, size_t size, Arrival& from) {
    const auto d = base::receiveDatagram(fd, {buf, size}, MSG_TRUNC);
    if (!d) return -1;
    from = Arrival{};
    from.ifindex = d->ifindex;
    if (d->source) from.source = *d->source;
    if (d->destination) from.destination = *d->destination;
    return static_cast<long>(d->length);
}

std::optional<SyncDecoded> accept(const std::uint8_t* buf, size_t size, long length, const Arrival& from,
                                  const Endpoint& e, DropCounts& drops) {
    auto drop = [&](SyncDrop d) { ++drops[static_cast<size_t>(d)]; };
    const size_t len = static_cast<size_t>(length);
    if (len > size || len > e.maxLen) {
        drop(SyncDrop::BadSize);
        return std::nullopt;
    }
    if (from.ifindex != e.ifindex || from.destination != e.group) {
        drop(SyncDrop::Foreign);
        return std::nullopt;
    }
    if (!e.peers.empty() && std::find(e.peers.begin(), e.peers.end(), from.source) == e.peers.end()) {
        drop(SyncDrop::NotPeer);
        return std::nullopt;
    }
    auto r = decodeSync({buf, len}, e.syncId);
    if (auto* d = std::get_if<SyncDrop>(&r)) {
        drop(*d);
        return std::nullopt;
    }
    auto& decoded = std::get<SyncDecoded>(r);
    for (SyncDrop why : decoded.drops) drop(why);
    return std::move(decoded);
}

}  // namespace kmod::sync
