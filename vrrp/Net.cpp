#include "vrrp/Net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netlink/route/addr.h>
#include <netlink/route/rtnl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vrrp/Packet.h"

namespace vrrp {

std::optional<InterfaceInfo> interfaceInfo(const std::string& name, const std::vector<base::IpAddress>& notThese) {
    InterfaceInfo info;
    info.index = static_cast<int>(::if_nametoindex(name.c_str()));
    if (info.index == 0) return std::nullopt;
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (fd >= 0 && ::ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    if (fd >= 0) ::close(fd);
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (ifaddrs* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || name != i->ifa_name) continue;
            const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            const auto a = base::IpAddress::v4(ntohl(sin->sin_addr.s_addr));
            if (std::find(notThese.begin(), notThese.end(), a) != notThese.end()) continue;
            info.primaryV4 = a;
            break;
        }
        ::freeifaddrs(list);
    }
    return info;
}

bool linkUp(const std::string& name) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    const bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
    ::close(fd);
    return ok;
}

std::error_code RawSocket::open(const std::string& interface, int ifindex, bool multicast) {
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtocol);
    if (fd < 0) return {errno, std::generic_category()};
    auto fail = [&] {
        const std::error_code ec(errno, std::generic_category());
        ::close(fd);
        return ec;
    };
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) != 0) return fail();
    const int ttl = 255, tos = 0xc0, off = 0, on = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0) return fail();
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0) return fail();
    if (::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0) return fail();
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) != 0) return fail();
    if (::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0) return fail();
    ip_mreqn m{};
    m.imr_ifindex = ifindex;
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0) return fail();
    if (multicast) {
        inet_pton(AF_INET, "224.0.0.18", &m.imr_multiaddr);
        if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) return fail();
    }
    sock_.assign(fd);
    return {};
}

std::error_code RawSocket::send(std::span<const std::uint8_t> vrrp, const base::IpAddress& dst, const std::optional<base::IpAddress>& src) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, dst.bytes().data(), 4);
    iovec iov{const_cast<std::uint8_t*>(vrrp.data()), vrrp.size()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    if (src) {  // the configured source address (unicast_source, or the primary one for the checksum)
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo pi{};
        std::memcpy(&pi.ipi_spec_dst, src->bytes().data(), 4);
        std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    if (::sendmsg(sock_.native_handle(), &msg, MSG_DONTWAIT) < 0) return {errno, std::generic_category()};
    return {};
}

void RawSocket::receive(OnPacket cb) {
    onPacket_ = std::move(cb);
    readLoop();
}

void RawSocket::readLoop() {
    sock_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        for (int i = 0; i < 64; ++i) {
            const ssize_t n = ::recv(sock_.native_handle(), buf_.data(), buf_.size(), MSG_DONTWAIT);
            if (n < 0) break;
            // a raw IPv4 socket hands over the IP header too
            if (static_cast<size_t>(n) < sizeof(iphdr)) continue;
            iphdr ip;
            std::memcpy(&ip, buf_.data(), sizeof ip);
            const size_t hl = static_cast<size_t>(ip.ihl) * 4;
            if (hl < sizeof ip || hl > static_cast<size_t>(n)) continue;
            const auto src = base::IpAddress::v4(ntohl(ip.saddr));
            const auto dst = base::IpAddress::v4(ntohl(ip.daddr));
            if (onPacket_) onPacket_(src, dst, ip.ttl, std::span<const std::uint8_t>(buf_.data() + hl, static_cast<size_t>(n) - hl));
        }
        readLoop();
    });
}

void RawSocket::close() {
    boost::system::error_code ec;
    sock_.close(ec);
}

VipManager::VipManager() {
    sock_ = nl_socket_alloc();
    if (sock_ && nl_connect(sock_, NETLINK_ROUTE) < 0) {
        nl_socket_free(sock_);
        sock_ = nullptr;
    }
    packet_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
}

VipManager::~VipManager() {
    if (sock_) nl_socket_free(sock_);
    if (packet_ >= 0) ::close(packet_);
}

namespace {

rtnl_addr* makeAddr(int ifindex, const base::IpPrefix& p) {
    rtnl_addr* a = rtnl_addr_alloc();
    rtnl_addr_set_ifindex(a, ifindex);
    const bool v4 = p.address.isV4();
    nl_addr* local = nl_addr_build(v4 ? AF_INET : AF_INET6, p.address.bytes().data(), v4 ? 4 : 16);
    nl_addr_set_prefixlen(local, p.prefix);
    rtnl_addr_set_local(a, local);
    nl_addr_put(local);
    return a;
}

}  // namespace

std::error_code VipManager::add(int ifindex, const base::IpPrefix& p, const std::string& label, const std::string& scope) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_addr* a = makeAddr(ifindex, p);
    if (!label.empty()) rtnl_addr_set_label(a, label.c_str());
    const int sc = rtnl_str2scope(scope.c_str());
    if (sc >= 0) rtnl_addr_set_scope(a, sc);
    const int rc = rtnl_addr_add(sock_, a, 0);
    rtnl_addr_put(a);
    if (rc < 0 && rc != -NLE_EXIST) return {EINVAL, std::generic_category()};
    return {};
}

std::error_code VipManager::remove(int ifindex, const base::IpPrefix& p) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_addr* a = makeAddr(ifindex, p);
    const int rc = rtnl_addr_delete(sock_, a, 0);
    rtnl_addr_put(a);
    if (rc < 0 && rc != -NLE_NOADDR && rc != -NLE_OBJ_NOTFOUND) return {EINVAL, std::generic_category()};
    return {};
}

bool VipManager::present(int ifindex, const base::IpAddress& want) {
    char name[IF_NAMESIZE] = {};
    if (!::if_indextoname(static_cast<unsigned>(ifindex), name)) return false;
    ifaddrs* list = nullptr;
    bool found = false;
    if (::getifaddrs(&list) == 0) {
        for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
            if (!i->ifa_addr || std::strncmp(i->ifa_name, name, std::strlen(name)) != 0) continue;  // labels: eth0:vip
            if (i->ifa_addr->sa_family == AF_INET && want.isV4())
                found = std::memcmp(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, want.bytes().data(), 4) == 0;
            else if (i->ifa_addr->sa_family == AF_INET6 && !want.isV4())
                found = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, want.bytes().data(), 16) == 0;
        }
        ::freeifaddrs(list);
    }
    return found;
}

// keepalived's gratuitous ARP: a request from the VIP to the VIP, target MAC all ones.
std::error_code VipManager::gratuitousArp(const InterfaceInfo& ifc, const base::IpAddress& vip) {
    if (packet_ < 0 || !vip.isV4()) return {EAFNOSUPPORT, std::generic_category()};
    std::uint8_t f[42] = {};
    std::memset(f, 0xff, 6);
    std::memcpy(f + 6, ifc.mac.data(), 6);
    f[12] = 0x08, f[13] = 0x06;
    const std::uint8_t arp[8] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    std::memcpy(f + 14, arp, 8);
    std::memcpy(f + 22, ifc.mac.data(), 6);
    std::memcpy(f + 28, vip.bytes().data(), 4);
    std::memset(f + 32, 0xff, 6);
    std::memcpy(f + 38, vip.bytes().data(), 4);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifc.index;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (::sendto(packet_, f, sizeof f, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) return {errno, std::generic_category()};
    return {};
}

}  // namespace vrrp
