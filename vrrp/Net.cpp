#include "vrrp/Net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/route/rtnl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <netinet/icmp6.h>

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "base/Datagram.h"
#include "base/Log.h"
#include "kmod/nftables/Nft.h"
#include "vrrp/Ah.h"
#include "vrrp/Packet.h"

namespace vrrp {

namespace {

bool forwarding6(const std::string& name) { return readSysctl(true, name, "forwarding") > 0; }

}  // namespace

std::error_code RawSocket::open(const Spec& spec) {
    const std::string& interface = spec.interface;
    const int ifindex = spec.ifindex;
    const bool multicast = spec.multicast, ah = spec.ah;
    const base::Family family = spec.family;
    close();
    family_ = family;
    ifindex_ = ifindex;
    const bool v6 = family == base::Family::V6;
    const int fd =
        ::socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ah ? kAhProtocol : kProtocol);
    if (fd < 0) return {errno, std::generic_category()};
    auto fail = [&] {
        const std::error_code ec(errno, std::generic_category());
        ::close(fd);
        return ec;
    };
    auto opt = [&](int level, int name, const auto& value) {
        return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
    };
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) != 0)
        return fail();
    const int hops = spec.multicast ? 255 : spec.ttl, mcastHops = 255, tos = 0xc0, off = 0, on = 1;
    if (v6) {
        // the checksum is ours (the codec's, over the pseudo-header); the hop limit and the
        // destination come with every packet
        if (!opt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops) || !opt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, mcastHops) ||
            !opt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off) || !opt(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex) ||
            !opt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, on) || !opt(IPPROTO_IPV6, IPV6_RECVPKTINFO, on) ||
            !opt(IPPROTO_IPV6, IPV6_TCLASS, tos))
            return fail();
        if (multicast) {
            ipv6_mreq m{};
            inet_pton(AF_INET6, "ff02::12", &m.ipv6mr_multiaddr);
            m.ipv6mr_interface = static_cast<unsigned>(ifindex);
            if (!opt(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, m)) return fail();
        }
    } else {
        if (!opt(IPPROTO_IP, IP_TTL, hops) || !opt(IPPROTO_IP, IP_MULTICAST_TTL, mcastHops) ||
            !opt(IPPROTO_IP, IP_TOS, tos) || !opt(IPPROTO_IP, IP_MULTICAST_LOOP, off) ||
            !opt(IPPROTO_IP, IP_PKTINFO, on) || (ah && !opt(IPPROTO_IP, IP_HDRINCL, on)))
            return fail();
        ip_mreqn m{};
        m.imr_ifindex = ifindex;
        if (!opt(IPPROTO_IP, IP_MULTICAST_IF, m)) return fail();
        if (multicast) {
            inet_pton(AF_INET, "224.0.0.18", &m.imr_multiaddr);
            if (!opt(IPPROTO_IP, IP_ADD_MEMBERSHIP, m)) return fail();
        }
    }
    sock_.assign(fd);
    return {};
}

std::error_code RawSocket::send(std::span<const std::uint8_t> vrrp, const base::IpAddress& dst,
                                const std::optional<base::IpAddress>& src) {
    const bool v6 = family_ == base::Family::V6;
    sockaddr_storage to{};
    socklen_t toLen = 0;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&to);
        s6->sin6_family = AF_INET6;
        std::memcpy(&s6->sin6_addr, dst.bytes().data(), 16);
        s6->sin6_scope_id = static_cast<std::uint32_t>(ifindex_);  // link-local and ff02::12 need the link
        toLen = sizeof(sockaddr_in6);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&to);
        s4->sin_family = AF_INET;
        std::memcpy(&s4->sin_addr, dst.bytes().data(), 4);
        toLen = sizeof(sockaddr_in);
    }
    iovec iov{const_cast<std::uint8_t*>(vrrp.data()), vrrp.size()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = toLen;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    if (src) {  // the source the checksum was computed over (unicast_source, the primary or link-local address)
        msg.msg_control = control;
        cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
        if (v6) {
            msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            std::memcpy(&pi.ipi6_addr, src->bytes().data(), 16);
            pi.ipi6_ifindex = static_cast<unsigned>(ifindex_);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
            msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            std::memcpy(&pi.ipi_spec_dst, src->bytes().data(), 4);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    if (::sendmsg(sock_.native_handle(), &msg, MSG_DONTWAIT) < 0) return {errno, std::generic_category()};
    return {};
}

void RawSocket::receive(std::function<void(const Received&)> cb) {
    onPacket_ = std::move(cb);
    readLoop();
}

void RawSocket::readLoop() {
    sock_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        for (int i = 0; i < 64; ++i) {
            const auto d = base::receiveDatagram(sock_.native_handle(), buf_);
            if (!d) break;
            const auto n = static_cast<ssize_t>(d->length);
            const bool truncated = d->truncated;
            if (family_ == base::Family::V6) {
                // no IP header on an IPv6 raw socket: the source is the sender's address, the
                // destination and the hop limit come as control messages
                if (!d->source || !d->source->isV6() || !d->destination || !onPacket_) continue;
                onPacket_(Received{*d->source,
                                   *d->destination,
                                   d->ttl,
                                   std::span<const std::uint8_t>(buf_.data(), static_cast<size_t>(n)),
                                   {},
                                   truncated});
                continue;
            }
            // a raw IPv4 socket hands over the IP header too
            if (static_cast<size_t>(n) < sizeof(iphdr)) continue;
            iphdr ip;
            std::memcpy(&ip, buf_.data(), sizeof ip);
            const size_t hl = static_cast<size_t>(ip.ihl) * 4;
            if (hl < sizeof ip || hl > static_cast<size_t>(n)) continue;
            const auto src = base::IpAddress::v4(ntohl(ip.saddr));
            const auto dst = base::IpAddress::v4(ntohl(ip.daddr));
            if (onPacket_)
                onPacket_(Received{src, dst, ip.ttl,
                                   std::span<const std::uint8_t>(buf_.data() + hl, static_cast<size_t>(n) - hl),
                                   std::span<const std::uint8_t>(buf_.data(), static_cast<size_t>(n)), truncated});
        }
        readLoop();
    });
}

void RawSocket::close() {
    boost::system::error_code ec;
    sock_.close(ec);
}

NetHost::NetHost(asio::io_context& io) : io_(io), watcher_(io) {
    sock_ = nl_socket_alloc();
    if (sock_ && nl_connect(sock_, NETLINK_ROUTE) < 0) {
        nl_socket_free(sock_);
        sock_ = nullptr;
    }
    if (sock_) {
        // the kernel answers address changes at once; never wait long on the VRRP loop
        timeval tv{0, 500000};
        ::setsockopt(nl_socket_get_fd(sock_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::fcntl(nl_socket_get_fd(sock_), F_SETFD, FD_CLOEXEC);
    }
    packet_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
}

std::optional<InterfaceInfo> NetHost::interfaceInfo(const std::string& name,
                                                    const std::vector<base::IpAddress>& notThese) {
    InterfaceInfo info;
    info.index = watcher_.index(name);
    const LinkWatcher::Link* link = watcher_.link(info.index);
    if (!info.index || !link) return std::nullopt;
    info.mac = link->mac;
    for (const auto& a : watcher_.addresses(info.index)) {
        if (a.address.isV4()) {
            if (!info.primaryV4 && std::find(notThese.begin(), notThese.end(), a.address) == notThese.end())
                info.primaryV4 = a.address;
        } else if (!info.linkLocalV6 && a.address.bytes()[0] == 0xfe && (a.address.bytes()[1] & 0xc0) == 0x80 &&
                   !(a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))) {
            info.linkLocalV6 = a.address;
        }
    }
    info.forwardsV6 = forwarding6(name);
    return info;
}

bool NetHost::linkUp(const std::string& name) {
    const LinkWatcher::Link* l = watcher_.link(watcher_.index(name));
    return l && (l->flags & IFF_UP) && (l->flags & IFF_RUNNING);
}

NetHost::~NetHost() {
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

// keepalived's routes carry its protocol number (RTPROT_KEEPALIVED): `ip route` shows
// "proto keepalived", and an operator's cleanup of keepalived's routes finds ours too
constexpr std::uint8_t kRouteProtocol = 18;

rtnl_route* makeRoute(const conf::VirtualRoute& r, int ifindex) {
    rtnl_route* route = rtnl_route_alloc();
    const bool v4 = r.to.address.isV4();
    const int family = v4 ? AF_INET : AF_INET6;
    rtnl_route_set_family(route, static_cast<std::uint8_t>(family));
    nl_addr* dst = nl_addr_build(family, r.to.address.bytes().data(), v4 ? 4 : 16);
    nl_addr_set_prefixlen(dst, r.to.prefix);
    rtnl_route_set_dst(route, dst);
    nl_addr_put(dst);
    rtnl_route_set_table(route, r.table ? static_cast<std::uint32_t>(r.table) : RT_TABLE_MAIN);
    rtnl_route_set_protocol(route, kRouteProtocol);
    if (r.metric) rtnl_route_set_priority(route, static_cast<std::uint32_t>(*r.metric));
    if (!r.scope.empty()) rtnl_route_set_scope(route, static_cast<std::uint8_t>(rtnl_str2scope(r.scope.c_str())));
    if (r.src) {
        nl_addr* src = nl_addr_build(family, r.src->bytes().data(), v4 ? 4 : 16);
        rtnl_route_set_pref_src(route, src);
        nl_addr_put(src);
    }
    const int type = r.type == "blackhole" ? RTN_BLACKHOLE
                     : r.type == "unreachable" ? RTN_UNREACHABLE
                     : r.type == "prohibit" ? RTN_PROHIBIT
                                            : RTN_UNICAST;
    rtnl_route_set_type(route, static_cast<std::uint8_t>(type));
    if (type == RTN_UNICAST && (ifindex > 0 || r.via)) {
        rtnl_nexthop* nh = rtnl_route_nh_alloc();
        if (ifindex > 0) rtnl_route_nh_set_ifindex(nh, ifindex);
        if (r.via) {
            nl_addr* gw = nl_addr_build(family, r.via->bytes().data(), v4 ? 4 : 16);
            rtnl_route_nh_set_gateway(nh, gw);
            nl_addr_put(gw);
        }
        rtnl_route_add_nexthop(route, nh);
    }
    return route;
}

}  // namespace

std::error_code NetHost::addRoute(const conf::VirtualRoute& r, int ifindex) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_route* route = makeRoute(r, ifindex);
    const int rc = rtnl_route_add(sock_, route, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_route_put(route);
    if (rc < 0) {
        base::log::debug("vrrp: route ", r.to.str(), ": ", nl_geterror(rc));
        return {rc == -NLE_NOACCESS || rc == -NLE_PERM ? EPERM : rc == -NLE_NOADDR ? EADDRNOTAVAIL : EINVAL,
                std::generic_category()};
    }
    return {};
}

std::error_code NetHost::removeRoute(const conf::VirtualRoute& r, int ifindex) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_route* route = makeRoute(r, ifindex);
    const int rc = rtnl_route_delete(sock_, route, 0);
    rtnl_route_put(route);
    if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NOADDR) return {EINVAL, std::generic_category()};
    return {};
}

namespace {

rtnl_rule* makeRule(const conf::VirtualRule& r) {
    rtnl_rule* rule = rtnl_rule_alloc();
    const int family = r.family == base::Family::V4 ? AF_INET : AF_INET6;
    rtnl_rule_set_family(rule, family);
    auto prefix = [&](const base::IpPrefix& p) {
        nl_addr* a = nl_addr_build(family, p.address.bytes().data(), p.address.isV4() ? 4 : 16);
        nl_addr_set_prefixlen(a, p.prefix);
        return a;
    };
    if (r.from) {
        nl_addr* a = prefix(*r.from);
        rtnl_rule_set_src(rule, a);
        nl_addr_put(a);
    }
    if (r.to) {
        nl_addr* a = prefix(*r.to);
        rtnl_rule_set_dst(rule, a);
        nl_addr_put(a);
    }
    if (r.priority) rtnl_rule_set_prio(rule, *r.priority);
    const std::uint8_t action = r.action == "blackhole"     ? FR_ACT_BLACKHOLE
                                : r.action == "unreachable" ? FR_ACT_UNREACHABLE
                                : r.action == "prohibit"    ? FR_ACT_PROHIBIT
                                                            : FR_ACT_TO_TBL;
    rtnl_rule_set_action(rule, action);
    if (action == FR_ACT_TO_TBL) rtnl_rule_set_table(rule, static_cast<std::uint32_t>(r.table));
    if (r.fwmark) {
        rtnl_rule_set_mark(rule, *r.fwmark);
        rtnl_rule_set_mask(rule, r.fwmask.value_or(0xffffffffu));
    }
    if (!r.iif.empty()) rtnl_rule_set_iif(rule, r.iif.c_str());
    if (!r.oif.empty()) rtnl_rule_set_oif(rule, r.oif.c_str());
    if (r.tos) rtnl_rule_set_dsfield(rule, static_cast<std::uint8_t>(*r.tos));
    rtnl_rule_set_protocol(rule, kRouteProtocol);  // "proto keepalived", as its rules
    return rule;
}

}  // namespace

std::error_code NetHost::addRule(const conf::VirtualRule& r) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_rule* rule = makeRule(r);
    // NLM_F_EXCL: the kernel adds an identical rule again without it (keepalived checks first too)
    const int rc = rtnl_rule_add(sock_, rule, NLM_F_EXCL);
    rtnl_rule_put(rule);
    if (rc < 0 && rc != -NLE_EXIST) {
        base::log::debug("vrrp: rule: ", nl_geterror(rc));
        return {rc == -NLE_NOACCESS || rc == -NLE_PERM ? EPERM : EINVAL, std::generic_category()};
    }
    return {};
}

bool NetHost::restoreRoute(const conf::VirtualRoute& r, int ifindex) {
    if (!sock_) return false;
    rtnl_route* route = makeRoute(r, ifindex);
    const int rc = rtnl_route_add(sock_, route, NLM_F_CREATE | NLM_F_EXCL);  // EEXIST: it is there
    rtnl_route_put(route);
    return rc >= 0;
}

bool NetHost::restoreRule(const conf::VirtualRule& r) {
    if (!sock_) return false;
    rtnl_rule* rule = makeRule(r);
    const int rc = rtnl_rule_add(sock_, rule, NLM_F_EXCL);
    rtnl_rule_put(rule);
    return rc >= 0;
}

std::error_code NetHost::removeRule(const conf::VirtualRule& r) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_rule* rule = makeRule(r);
    const int rc = rtnl_rule_delete(sock_, rule, 0);
    rtnl_rule_put(rule);
    if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NOADDR) return {EINVAL, std::generic_category()};
    return {};
}

std::error_code NetHost::addAddress(int ifindex, const base::IpPrefix& p, const std::string& label,
                                    const std::string& scope) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_addr* a = makeAddr(ifindex, p);
    if (!label.empty()) rtnl_addr_set_label(a, label.c_str());
    const int sc = rtnl_str2scope(scope.c_str());
    if (sc >= 0) rtnl_addr_set_scope(a, sc);
    // an IPv6 VIP is usable at once: the peer that held it a moment ago must not fail our DAD
    if (!p.address.isV4()) rtnl_addr_set_flags(a, IFA_F_NODAD);
    const int rc = rtnl_addr_add(sock_, a, 0);
    rtnl_addr_put(a);
    if (rc < 0 && rc != -NLE_EXIST) return {EINVAL, std::generic_category()};
    watcher_.note(ifindex, p, true);
    return {};
}

std::error_code NetHost::removeAddress(int ifindex, const base::IpPrefix& p) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    rtnl_addr* a = makeAddr(ifindex, p);
    const int rc = rtnl_addr_delete(sock_, a, 0);
    rtnl_addr_put(a);
    if (rc < 0 && rc != -NLE_NOADDR && rc != -NLE_OBJ_NOTFOUND) return {EINVAL, std::generic_category()};
    watcher_.note(ifindex, p, false);
    return {};
}

namespace {

std::error_code sendFrame(int fd, int ifindex, std::uint16_t ethertype, std::span<const std::uint8_t> frame) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ethertype);
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame.data(), 6);
    if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
        return {errno, std::generic_category()};
    return {};
}

}  // namespace

// An unsolicited neighbour advertisement (RFC 4861 7.2.6) from the VIP to all nodes (ff02::1), hop
// limit 255, Override set (Router too when the interface forwards IPv6), with our MAC as the
// target link-layer address: neighbours update their cache at once. Byte for byte keepalived's.
std::vector<std::uint8_t> unsolicitedNaFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip,
                                             bool router) {
    std::vector<std::uint8_t> f(14 + 40 + 32, 0);
    const std::uint8_t allNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
    std::memcpy(f.data(), allNodesMac, 6);
    std::memcpy(f.data() + 6, mac.data(), 6);
    f[12] = 0x86, f[13] = 0xdd;
    std::uint8_t* ip = f.data() + 14;
    ip[0] = 0x60;
    ip[5] = 32;   // payload length
    ip[6] = 58;   // ICMPv6
    ip[7] = 255;  // hop limit
    std::memcpy(ip + 8, vip.bytes().data(), 16);
    std::uint8_t allNodes[16] = {0xff, 0x02};
    allNodes[15] = 1;
    std::memcpy(ip + 24, allNodes, 16);
    std::uint8_t* na = ip + 40;
    na[0] = 136;
    na[4] = static_cast<std::uint8_t>(0x20 | (router ? 0x80 : 0));
    std::memcpy(na + 8, vip.bytes().data(), 16);
    na[24] = 2;  // target link-layer address option, 8 bytes
    na[25] = 1;
    std::memcpy(na + 26, mac.data(), 6);
    const auto dst = base::IpAddress::fromBytes(base::Family::V6, allNodes);
    const std::uint16_t ck = inetChecksum({na, 32}, pseudoHeaderSum(vip, dst, 32, 58));
    na[2] = static_cast<std::uint8_t>(ck >> 8);
    na[3] = static_cast<std::uint8_t>(ck & 0xff);
    return f;
}

// keepalived's gratuitous ARP: a request from the VIP to the VIP, target MAC all ones, broadcast.
std::vector<std::uint8_t> gratuitousArpFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip) {
    std::vector<std::uint8_t> f(42, 0);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, mac.data(), 6);
    f[12] = 0x08, f[13] = 0x06;
    const std::uint8_t arp[8] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    std::memcpy(f.data() + 14, arp, 8);
    std::memcpy(f.data() + 22, mac.data(), 6);
    std::memcpy(f.data() + 28, vip.bytes().data(), 4);
    std::memset(f.data() + 32, 0xff, 6);
    std::memcpy(f.data() + 38, vip.bytes().data(), 4);
    return f;
}

std::error_code NetHost::announce(const InterfaceInfo& ifc, const base::IpAddress& vip) {
    if (packet_ < 0) return {EBADF, std::generic_category()};
    if (vip.isV4()) return sendFrame(packet_, ifc.index, ETH_P_ARP, gratuitousArpFrame(ifc.mac, vip));
    return sendFrame(packet_, ifc.index, 0x86dd, unsolicitedNaFrame(ifc.mac, vip, ifc.forwardsV6));
}

// The supervisor's clean-up for a vrrp worker it restarts later: `instances`' virtual and excluded
// addresses off their interfaces (a VMAC instance's on its VMAC), through a short-lived rtnetlink
// socket of its own.
int removeInstanceAddresses(const std::vector<conf::VrrpInstance>& instances, std::string& failed) {
    nl_sock* sock = nl_socket_alloc();
    if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0) {
        if (sock) nl_socket_free(sock);
        failed = "no rtnetlink socket";
        return 0;
    }
    int removed = 0;
    for (const auto& inst : instances)
        for (const auto* list : {&inst.virtualAddresses, &inst.excludedAddresses})
            for (const auto& v : *list) {
                const std::string dev = !v.dev.empty() ? v.dev : inst.vmac.enabled ? inst.vmac.name : inst.interface;
                const int idx = static_cast<int>(::if_nametoindex(dev.c_str()));
                if (!idx) continue;  // its interface is gone, and the address with it
                rtnl_addr* a = makeAddr(idx, v.prefix);
                const int rc = rtnl_addr_delete(sock, a, 0);
                rtnl_addr_put(a);
                if (rc == 0) ++removed;
                else if (rc != -NLE_NOADDR && rc != -NLE_OBJ_NOTFOUND)
                    failed += (failed.empty() ? "" : ", ") + v.prefix.str() + " on " + dev + ": " + nl_geterror(rc);
            }
    nl_socket_free(sock);
    return removed;
}

}  // namespace vrrp
