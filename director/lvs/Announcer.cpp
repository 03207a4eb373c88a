#include "director/lvs/Announcer.h"

#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/Log.h"
#include "conf/ToModel.h"

namespace director::lvs {

std::vector<Announcement> decideAnnouncements(const conf::Config& cfg, const std::map<kmod::ServiceKey, bool>& quorumUp,
                                              bool withdrawn, const std::map<std::string, ::vrrp::State>& roles) {
    std::map<base::IpAddress, std::vector<const conf::VirtualServer*>> vips;
    for (const auto& vs : cfg.virtualServers)
        if (!vs.fwmark && vs.address) vips[*vs.address].push_back(&vs);
    std::vector<Announcement> out;
    const auto& an = cfg.global.announce;
    for (const auto& [vip, services] : vips) {
        Announcement a{vip, false, ""};
        std::vector<std::string> lost;
        for (const auto* vs : services) {
            auto q = quorumUp.find(conf::serviceKey(*vs));
            if (q != quorumUp.end() && !q->second) lost.push_back(vs->str());
        }
        if (!an.enabled) {
            a.why = "announce is off";
        } else if (withdrawn) {
            a.why = "the director is withdrawn (directorctl rejoin)";
        } else if (!lost.empty()) {
            a.why = "quorum lost on " + lost.front() +
                    (lost.size() > 1 ? " and " + std::to_string(lost.size() - 1) + " more" : "");
        } else if (!an.vrrpInstance.empty() &&
                   (!roles.contains(an.vrrpInstance) || roles.at(an.vrrpInstance) != ::vrrp::State::Master)) {
            a.why = "VRRP instance " + an.vrrpInstance + " is " +
                    (roles.contains(an.vrrpInstance) ? std::string(::vrrp::stateName(roles.at(an.vrrpInstance)))
                                                     : std::string("not started"));
        } else {
            a.announced = true;
            a.why = "announced";
        }
        out.push_back(std::move(a));
    }
    return out;
}

RouteTable::RouteTable(int table, int protocol) : table_(table), protocol_(protocol) {
    sock_ = nl_socket_alloc();
    if (sock_ && nl_connect(sock_, NETLINK_ROUTE) < 0) {
        nl_socket_free(sock_);
        sock_ = nullptr;
    }
    if (sock_) {
        timeval tv{0, 500000};  // the kernel answers at once; never wait long on a loop
        ::setsockopt(nl_socket_get_fd(sock_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::fcntl(nl_socket_get_fd(sock_), F_SETFD, FD_CLOEXEC);
    }
}

RouteTable::~RouteTable() {
    if (sock_) nl_socket_free(sock_);
}

namespace {

struct Listing {
    int table, protocol;
    std::set<base::IpAddress> vips;
};

void collect(nl_object* obj, void* arg) {
    auto* l = static_cast<Listing*>(arg);
    auto* r = reinterpret_cast<rtnl_route*>(obj);
    if (static_cast<int>(rtnl_route_get_table(r)) != l->table || rtnl_route_get_protocol(r) != l->protocol) return;
    nl_addr* dst = rtnl_route_get_dst(r);
    if (!dst) return;
    const int family = nl_addr_get_family(dst);
    const unsigned len = nl_addr_get_prefixlen(dst);
    if (!((family == AF_INET && len == 32) || (family == AF_INET6 && len == 128))) return;
    l->vips.insert(base::IpAddress::fromBytes(family == AF_INET ? base::Family::V4 : base::Family::V6,
                                              static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(dst))));
}

rtnl_route* hostRoute(const base::IpAddress& vip, int table, int protocol) {
    rtnl_route* r = rtnl_route_alloc();
    const bool v4 = vip.isV4();
    nl_addr* dst = nl_addr_build(v4 ? AF_INET : AF_INET6, vip.bytes().data(), v4 ? 4 : 16);
    nl_addr_set_prefixlen(dst, v4 ? 32 : 128);
    rtnl_route_set_dst(r, dst);
    nl_addr_put(dst);
    rtnl_route_set_family(r, v4 ? AF_INET : AF_INET6);
    rtnl_route_set_table(r, static_cast<std::uint32_t>(table));
    rtnl_route_set_protocol(r, static_cast<std::uint8_t>(protocol));
    rtnl_route_set_type(r, RTN_UNICAST);
    rtnl_route_set_scope(r, RT_SCOPE_LINK);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, static_cast<int>(if_nametoindex("lo")));
    rtnl_route_add_nexthop(r, nh);
    return r;
}

}  // namespace

std::set<base::IpAddress> RouteTable::current() {
    Listing l{table_, protocol_, {}};
    if (!sock_) return l.vips;
    for (int family : {AF_INET, AF_INET6}) {
        nl_cache* cache = nullptr;
        if (rtnl_route_alloc_cache(sock_, family, 0, &cache) < 0) continue;
        nl_cache_foreach(cache, collect, &l);
        nl_cache_free(cache);
    }
    return l.vips;
}

std::error_code RouteTable::sync(const std::set<base::IpAddress>& vips, std::vector<base::IpAddress>* added,
                                 std::vector<base::IpAddress>* removed) {
    if (!sock_) return {ENOTCONN, std::generic_category()};
    const auto have = current();
    std::error_code first;
    for (const auto& v : have) {
        if (vips.contains(v)) continue;
        rtnl_route* r = hostRoute(v, table_, protocol_);
        const int rc = rtnl_route_delete(sock_, r, 0);
        rtnl_route_put(r);
        if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && !first) first = {EIO, std::generic_category()};
        else if (removed) removed->push_back(v);
    }
    for (const auto& v : vips) {
        if (have.contains(v)) continue;
        rtnl_route* r = hostRoute(v, table_, protocol_);
        const int rc = rtnl_route_add(sock_, r, NLM_F_CREATE | NLM_F_REPLACE);
        rtnl_route_put(r);
        if (rc < 0 && !first) first = {EIO, std::generic_category()};
        else if (rc >= 0 && added) added->push_back(v);
    }
    return first;
}

// global.announce changed (or the worker starts): the routes of an old table or protocol go; at
// start, whatever a crashed run left is taken back before anything is announced again.
void Announcing::configure(const conf::AnnounceConfig& want, bool kernelPlane) {
    if (routes_ && want.enabled && want.table == config_.table && want.protocol == config_.protocol) {
        config_ = want;
        return;
    }
    if (routes_) {
        routes_->withdrawAll();
        base::log::notice("announce: withdrew every VIP from table ", config_.table, " (the setting changed)");
    }
    routes_.reset();
    announced_.clear();
    config_ = want;
    if (!want.enabled) return;
    routes_ = std::make_unique<RouteTable>(want.table, want.protocol);
    routes_->withdrawAll();
    if (kernelPlane) {
        // A flow that ECMP moves here mid-stream arrives without a SYN: IPVS schedules it (with mh,
        // to the real server the other director chose) only with sloppy_tcp.
        bool ok = true;
        for (const char* knob : {"/proc/sys/net/ipv4/vs/sloppy_tcp", "/proc/sys/net/ipv4/vs/sloppy_sctp"}) {
            std::FILE* f = std::fopen(knob, "w");
            ok &= f && std::fputs("1\n", f) >= 0;
            if (f) std::fclose(f);
        }
        if (ok)
            base::log::info(
                "announce: net.ipv4.vs.sloppy_tcp = 1: IPVS takes over connections ECMP moves here"
                " mid-stream");
        else
            base::log::warning(
                "announce: cannot set net.ipv4.vs.sloppy_tcp; connections that ECMP moves here"
                " mid-stream will be reset");
    }
}

void Announcing::update(const conf::Config& cfg, const std::map<kmod::ServiceKey, bool>& quorumUp, bool withdrawn,
                        const std::map<std::string, ::vrrp::State>& roles, bool force) {
    announcements_ = decideAnnouncements(cfg, quorumUp, withdrawn, roles);
    if (!routes_) return;
    std::set<base::IpAddress> want;
    for (const auto& a : announcements_)
        if (a.announced) want.insert(a.vip);
    if (!force && want == announced_) return;
    std::vector<base::IpAddress> added, removed;
    if (auto ec = routes_->sync(want, &added, &removed))
        base::log::error("announce: cannot update routing table ", config_.table, ": ", ec.message(),
                         "; the routing daemon may announce what this director cannot serve");
    for (const auto& v : added)
        base::log::notice("announce: ", v.str(), " announced (table ", config_.table, ")");
    for (const auto& v : removed)
        for (const auto& a : announcements_)
            if (a.vip == v) base::log::notice("announce: ", v.str(), " withdrawn: ", a.announced ? "repair" : a.why);
    if (force && !(added.empty() && removed.empty()) && !announced_.empty())
        base::log::warning("announce: table ", config_.table,
                           " had changed behind directord's back; repaired (check what else writes it)");
    announced_ = std::move(want);
}

}  // namespace director::lvs
