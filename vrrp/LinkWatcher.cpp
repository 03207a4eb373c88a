#include "vrrp/LinkWatcher.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/Log.h"

namespace vrrp {
namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }
constexpr std::uint8_t kOurProtocol = 18;  // routes' and rules' protocol: keepalived's (RTPROT_KEEPALIVED)

template <class T>
bool readStruct(std::span<const std::uint8_t> b, size_t off, T& out) {
    if (off + sizeof(T) > b.size()) return false;
    std::memcpy(&out, b.data() + off, sizeof(T));
    return true;
}

// Calls fn(type, payload) for each rtattr in `b`.
template <class Fn>
void eachAttr(std::span<const std::uint8_t> b, Fn fn) {
    size_t off = 0;
    while (off + sizeof(rtattr) <= b.size()) {
        rtattr a;
        std::memcpy(&a, b.data() + off, sizeof a);
        if (a.rta_len < sizeof(rtattr) || off + a.rta_len > b.size()) return;
        fn(a.rta_type, b.subspan(off + sizeof(rtattr), a.rta_len - sizeof(rtattr)));
        off += align4(a.rta_len);
    }
}

std::string text(std::span<const std::uint8_t> v) {
    std::string s(reinterpret_cast<const char*>(v.data()), v.size());
    if (auto z = s.find('\0'); z != std::string::npos) s.resize(z);
    return s;
}

}  // namespace

RtnetlinkEvents parseRtnetlink(std::span<const std::uint8_t> bytes) {
    RtnetlinkEvents out;
    size_t off = 0;
    while (off + sizeof(nlmsghdr) <= bytes.size()) {
        nlmsghdr h;
        std::memcpy(&h, bytes.data() + off, sizeof h);
        if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > bytes.size()) break;
        const auto body = bytes.subspan(off + sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr));
        off += align4(h.nlmsg_len);
        if (h.nlmsg_type == NLMSG_DONE) {
            out.done = true;
            continue;
        }
        if (h.nlmsg_type == NLMSG_ERROR) {
            nlmsgerr e;
            if (readStruct(body, 0, e) && e.error) out.error = -e.error;
            continue;
        }
        if (h.nlmsg_type == RTM_DELROUTE) {
            rtmsg r;
            if (readStruct(body, 0, r)) out.ownRouteDeletions += r.rtm_protocol == kOurProtocol;
            continue;
        }
        if (h.nlmsg_type == RTM_DELRULE) {  // the protocol is an attribute (FRA_PROTOCOL, Linux 4.17)
            fib_rule_hdr f;
            if (!readStruct(body, 0, f)) continue;
            eachAttr(body.subspan(std::min(body.size(), align4(sizeof f))), [&](unsigned t, auto v) {
                if ((t & NLA_TYPE_MASK) == FRA_PROTOCOL && !v.empty()) out.ownRouteDeletions += v[0] == kOurProtocol;
            });
            continue;
        }
        if (h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) {
            ifinfomsg ifi;
            if (!readStruct(body, 0, ifi)) continue;
            LinkEvent l;
            l.removed = h.nlmsg_type == RTM_DELLINK;
            l.index = ifi.ifi_index;
            l.flags = ifi.ifi_flags;
            eachAttr(body.subspan(std::min(body.size(), align4(sizeof ifi))), [&](unsigned t, auto v) {
                if (t == IFLA_IFNAME) l.name = text(v);
                if (t == IFLA_ADDRESS && v.size() == 6) std::memcpy(l.mac.data(), v.data(), 6);
            });
            out.links.push_back(std::move(l));
        } else if (h.nlmsg_type == RTM_NEWADDR || h.nlmsg_type == RTM_DELADDR) {
            ifaddrmsg ifa;
            if (!readStruct(body, 0, ifa)) continue;
            if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) continue;
            AddressEvent a;
            a.removed = h.nlmsg_type == RTM_DELADDR;
            a.index = static_cast<int>(ifa.ifa_index);
            a.prefix = ifa.ifa_prefixlen;
            a.flags = ifa.ifa_flags;
            const size_t len = ifa.ifa_family == AF_INET ? 4 : 16;
            bool haveLocal = false, haveAddress = false;
            base::IpAddress local, address;
            eachAttr(body.subspan(std::min(body.size(), align4(sizeof ifa))), [&](unsigned t, auto v) {
                const auto fam = ifa.ifa_family == AF_INET ? base::Family::V4 : base::Family::V6;
                if ((t == IFA_LOCAL || t == IFA_ADDRESS) && v.size() == len) {
                    (t == IFA_LOCAL ? local : address) = base::IpAddress::fromBytes(fam, v.data());
                    (t == IFA_LOCAL ? haveLocal : haveAddress) = true;
                }
                if (t == IFA_LABEL) a.label = text(v);
                if (t == IFA_FLAGS && v.size() == 4) std::memcpy(&a.flags, v.data(), 4);
            });
            // IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on point-to-point links)
            if (!haveLocal && !haveAddress) continue;
            a.address = haveLocal ? local : address;
            out.addresses.push_back(std::move(a));
        }
    }
    return out;
}

LinkWatcher::~LinkWatcher() {
    boost::system::error_code ec;
    sock_.close(ec);
}

bool LinkWatcher::start() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) {
        base::log::error("vrrp: cannot open rtnetlink: ", std::strerror(errno));
        return false;
    }
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    const int rcvbuf = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        base::log::error("vrrp: cannot subscribe to rtnetlink: ", std::strerror(errno));
        ::close(fd);
        return false;
    }
    sock_.assign(fd);
    links_.clear();
    addresses_.clear();
    if (!dump(RTM_GETLINK) || !dump(RTM_GETADDR)) return false;
    readMore();
    return true;
}

// One dump, read to its end (a local kernel answer: milliseconds; bounded by a 1 s wait anyway).
bool LinkWatcher::dump(std::uint16_t type) {
    struct {
        nlmsghdr h;
        rtgenmsg g;
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = ++seq_;
    req.g.rtgen_family = AF_UNSPEC;
    const int fd = sock_.native_handle();
    if (::send(fd, &req, sizeof req, 0) < 0) return false;
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) {
            base::log::error("vrrp: rtnetlink dump got no answer within 1 s");
            return false;
        }
        const ssize_t n = ::recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return false;
        }
        const auto e = parseRtnetlink({buf_.data(), static_cast<size_t>(n)});
        apply(e);
        if (e.done || e.error) return !e.error;
    }
}

void LinkWatcher::readMore() {
    sock_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        bool lost = false;
        while (true) {
            const ssize_t n = ::recv(sock_.native_handle(), buf_.data(), buf_.size(), MSG_DONTWAIT);
            if (n < 0) {
                lost |= errno == ENOBUFS;  // the kernel dropped events: read everything again
                if (errno == EINTR || errno == ENOBUFS) continue;
                break;
            }
            apply(parseRtnetlink({buf_.data(), static_cast<size_t>(n)}));
        }
        if (lost) {
            links_.clear();
            addresses_.clear();
            dump(RTM_GETLINK);
            dump(RTM_GETADDR);
        }
        if (onChange_) onChange_();
        readMore();
    });
}

void LinkWatcher::apply(const RtnetlinkEvents& e) {
    for (const auto& l : e.links) {
        if (l.removed) {
            links_.erase(l.index);
            addresses_.erase(l.index);
            continue;
        }
        Link& k = links_[l.index];
        if (!l.name.empty()) k.name = l.name;
        k.flags = l.flags;
        if (l.mac != std::array<std::uint8_t, 6>{}) k.mac = l.mac;
    }
    for (const auto& a : e.addresses) {
        auto& list = addresses_[a.index];
        auto it = std::find_if(list.begin(), list.end(), [&](const Address& x) { return x.address == a.address; });
        if (a.removed) {
            if (it != list.end()) list.erase(it);
            continue;
        }
        Address x{a.address, a.prefix, a.flags, a.label};
        if (it != list.end()) *it = x;
        else list.push_back(x);
    }
}

void LinkWatcher::note(int index, const base::IpPrefix& p, bool present) {
    RtnetlinkEvents e;
    AddressEvent a;
    a.removed = !present;
    a.index = index;
    a.address = p.address;
    a.prefix = p.prefix;
    if (!p.address.isV4()) a.flags = IFA_F_NODAD;
    e.addresses.push_back(a);
    apply(e);
}

int LinkWatcher::index(const std::string& name) const {
    for (const auto& [i, l] : links_)
        if (l.name == name) return i;
    return 0;
}

const LinkWatcher::Link* LinkWatcher::link(int index) const {
    auto it = links_.find(index);
    return it == links_.end() ? nullptr : &it->second;
}

const std::vector<LinkWatcher::Address>& LinkWatcher::addresses(int index) const {
    static const std::vector<Address> none;
    auto it = addresses_.find(index);
    return it == addresses_.end() ? none : it->second;
}

bool LinkWatcher::has(int index, const base::IpAddress& a) const {
    const auto& list = addresses(index);
    return std::any_of(list.begin(), list.end(), [&](const Address& x) { return x.address == a; });
}

}  // namespace vrrp
