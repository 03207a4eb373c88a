// NetHost's VMACs (keepalived's use_vmac; its vrrp_vmac.c, vrrp_if_config.c and vrrp_nftables.c are
// the reference): a private-mode macvlan with the VRRP MAC, made through libnl-route; the sysctls
// keepalived sets on it and on its parent, undone when the parent's last one goes; and keepalived's
// nftables rules that send the macvlan's IGMP / MLD reports from the parent instead.
//
// What the parent had before is written in each macvlan's alias (`ip link` shows it), so a
// restarted worker, or a directord started again after a crash, finds it with the macvlan and still
// puts it back at the end.
#include <dirent.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>

#include <linux/if_addr.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/Log.h"
#include "kmod/nftables/Nft.h"
#include "vrrp/Net.h"

namespace vrrp {

namespace {

std::string sysctlPath(bool v6, const std::string& link, const char* param) {
    return std::string("/proc/sys/net/") + (v6 ? "ipv6" : "ipv4") + "/conf/" + link + "/" + param;
}

bool writeSysctl(bool v6, const std::string& link, const char* param, int value) {
    std::ofstream out(sysctlPath(v6, link, param));
    out << value << '\n';
    out.flush();
    if (out) return true;
    base::log::warning("vrrp: cannot set net.", v6 ? "ipv6" : "ipv4", ".conf.", link, ".", param, " to ", value,
                       ": ", std::strerror(errno));
    return false;
}

struct LinkPtr {
    rtnl_link* p = nullptr;
    ~LinkPtr() {
        if (p) rtnl_link_put(p);
    }
};

}  // namespace

int readSysctl(bool v6, const std::string& link, const char* param) {
    std::ifstream in(sysctlPath(v6, link, param));
    int v = -1;
    return in >> v ? v : -1;
}

namespace {

constexpr const char* kAliasHead = "directord vmac, parent had:";

}  // namespace

// keepalived's clear_rp_filter: the macvlan needs rp_filter 0 (traffic to a VIP arrives on it while
// the route back to the client is the parent's), and the effective value is the larger of `all`
// and the link's. So every link's (and `default`'s) is raised to `all`'s, which then becomes 0:
// no link's filtering changes, and the macvlan's own 0 counts.
void NetHost::clearRpFilter() {
    const int all = readSysctl(false, "all", "rp_filter");
    if (all <= 0 || rpAll_) return;
    rpAll_ = all;
    const int def = readSysctl(false, "default", "rp_filter");
    if (def >= 0 && def < all && writeSysctl(false, "default", "rp_filter", all)) rpDefault_ = def;
    if (DIR* d = ::opendir("/proc/sys/net/ipv4/conf")) {
        while (dirent* e = ::readdir(d)) {
            const std::string n = e->d_name;
            if (n == "." || n == ".." || n == "all" || n == "default") continue;
            const int v = readSysctl(false, n, "rp_filter");
            if (v >= 0 && v < all && writeSysctl(false, n, "rp_filter", all)) rpRaised_[n] = v;
        }
        ::closedir(d);
    }
    base::log::notice("vrrp: net.ipv4.conf.all.rp_filter ", all,
                      " -> 0 for the VMACs (each link keeps its own filtering: its value was raised to ", all,
                      "); put back when the last VMAC goes");
    writeSysctl(false, "all", "rp_filter", 0);
}

void NetHost::restoreRpFilter() {
    if (!rpAll_) return;
    // `all` back is what matters (each link's effective value is then what it was); the rest only
    // where this process raised it and nobody changed it since
    if (readSysctl(false, "all", "rp_filter") == 0) writeSysctl(false, "all", "rp_filter", *rpAll_);
    if (rpDefault_ && readSysctl(false, "default", "rp_filter") == *rpAll_)
        writeSysctl(false, "default", "rp_filter", *rpDefault_);
    for (const auto& [n, v] : rpRaised_)
        if (readSysctl(false, n, "rp_filter") == *rpAll_) writeSysctl(false, n, "rp_filter", v);
    base::log::notice("vrrp: net.ipv4.conf.all.rp_filter put back to ", *rpAll_);
    rpAll_.reset();
    rpDefault_.reset();
    rpRaised_.clear();
}

// keepalived's vrrp_nftables.c (nft_add_vmac): a macvlan's IGMP and MLD reports leave from its
// parent (a copy to the same group) and not from it, so no switch learns the virtual MAC from a
// backup. One batch: the kernel has all of it or none.
void NetHost::vmacFilters() {
    std::string v4, v6;
    for (const auto& [name, v] : vmacs_) {
        if (v.family == base::Family::V4)
            v4 += "add rule ip directord_vmac out oifname \"" + name +
                  "\" ip protocol igmp dup to ip daddr device \"" + v.parent + "\" drop\n";
        else
            v6 += "add rule ip6 directord_vmac out oifname \"" + name +
                  "\" icmpv6 type { mld-listener-report, mld2-listener-report } dup to ip6 daddr device \"" +
                  v.parent + "\" drop\n";
    }
    std::string batch;
    for (const auto& [fam, rules] : {std::pair<std::string, std::string>{"ip", v4}, {"ip6", v6}}) {
        batch += "add table " + fam + " directord_vmac\ndelete table " + fam + " directord_vmac\n";
        if (rules.empty()) continue;
        batch += "add table " + fam + " directord_vmac\nadd chain " + fam +
                 " directord_vmac out { type filter hook output priority -1; policy accept; }\n" + rules;
    }
    const auto err = nft().ok() ? nft().run(batch) : std::optional<std::string>("no nftables context");
    if (err && !nftWarned_) {
        nftWarned_ = true;
        base::log::warning("vrrp: cannot install the VMAC report rules (", *err,
                           "): a backup's macvlan sends its IGMP/MLD reports with the virtual MAC, and a switch "
                           "may learn it at the backup until the master's next advert");
    }
}

VmacResult NetHost::ensureVmac(const VmacSpec& spec) {
    VmacResult out;
    auto fail = [&](int e, const std::string& what) {
        base::log::error("vrrp: VMAC ", spec.name, " on ", spec.parent, ": ", what);
        out.error = {e, std::generic_category()};
        return out;
    };
    if (!sock_) return fail(ENOTCONN, "no rtnetlink socket");
    const int parent = static_cast<int>(::if_nametoindex(spec.parent.c_str()));
    if (!parent) return fail(ENODEV, "no interface " + spec.parent);
    const bool v6 = spec.family == base::Family::V6;
    LinkPtr have;
    if (rtnl_link_get_kernel(sock_, 0, spec.name.c_str(), &have.p) >= 0 && have.p) {
        const char* type = rtnl_link_get_type(have.p);
        if (!type || std::strcmp(type, "macvlan") != 0)
            return fail(EEXIST, spec.name + " exists and is not a macvlan; name the VMAC otherwise (vmac.name)");
        nl_addr* a = rtnl_link_get_addr(have.p);
        const bool sameMac =
            a && nl_addr_get_len(a) == 6 && std::memcmp(nl_addr_get_binary_addr(a), spec.mac.data(), 6) == 0;
        if (rtnl_link_get_link(have.p) == parent && sameMac &&
            rtnl_link_macvlan_get_mode(have.p) == MACVLAN_MODE_PRIVATE) {
            out.ifindex = rtnl_link_get_ifindex(have.p);
            // a restarted worker: what the parent had before is in the alias
            const char* alias = rtnl_link_get_ifalias(have.p);
            if (!v6 && alias && std::strncmp(alias, kAliasHead, std::strlen(kAliasHead)) == 0) {
                std::istringstream in(alias + std::strlen(kAliasHead));
                Saved s;
                int all = -1;
                for (std::string k; in >> k;) {
                    if (k == "raised") break;  // its value is a list, below
                    int v = -1;
                    if (!(in >> v)) break;
                    if (k == "arp_ignore") s.arpIgnore = v;
                    else if (k == "arp_filter") s.arpFilter = v;
                    else if (k == "arp_announce") s.arpAnnounce = v;
                    else if (k == "all.rp_filter") all = v;
                    else if (k == "default.rp_filter" && v >= 0) rpDefault_ = v;
                }
                parents_.emplace(spec.parent, s);
                if (all > 0 && !rpAll_) {
                    rpAll_ = all;
                    rpCleared_ = true;
                    std::string list;  // "eth0:0,eth1:0": the links clearRpFilter raised, and from what
                    in >> list;
                    for (size_t at = 0; at < list.size();) {
                        const size_t comma = std::min(list.find(',', at), list.size());
                        const std::string item = list.substr(at, comma - at);
                        if (const auto colon = item.rfind(':'); colon != std::string::npos)
                            rpRaised_[item.substr(0, colon)] = std::atoi(item.c_str() + colon + 1);
                        at = comma + 1;
                    }
                }
            }
        } else {
            base::log::notice("vrrp: VMAC ", spec.name, " exists with another parent, MAC or mode; replacing it");
            rtnl_link_delete(sock_, have.p);
        }
    }
    if (!out.ifindex) {
        if (!v6) {
            if (!rpCleared_) {  // before the macvlan exists: it inherits `default`'s, raised
                clearRpFilter();
                rpCleared_ = true;
            }
            if (!parents_.contains(spec.parent))
                parents_[spec.parent] = Saved{readSysctl(false, spec.parent, "arp_ignore"),
                                              readSysctl(false, spec.parent, "arp_filter"),
                                              readSysctl(false, spec.parent, "arp_announce")};
        }
        LinkPtr parentLink;
        std::uint32_t group = 0;
        if (rtnl_link_get_kernel(sock_, parent, nullptr, &parentLink.p) >= 0 && parentLink.p)
            group = rtnl_link_get_group(parentLink.p);  // nftables iifgroup / oifgroup rules keep working
        LinkPtr link;
        link.p = rtnl_link_macvlan_alloc();
        if (!link.p) return fail(ENOMEM, "out of memory");
        rtnl_link_set_name(link.p, spec.name.c_str());
        rtnl_link_set_link(link.p, parent);
        rtnl_link_macvlan_set_mode(link.p, MACVLAN_MODE_PRIVATE);
        rtnl_link_set_group(link.p, group);
        nl_addr* mac = nl_addr_build(AF_LLC, spec.mac.data(), 6);
        rtnl_link_set_addr(link.p, mac);
        nl_addr_put(mac);
        if (const int rc = rtnl_link_add(sock_, link.p, NLM_F_CREATE | NLM_F_EXCL); rc < 0)
            return fail(rc == -NLE_PERM || rc == -NLE_NOACCESS ? EPERM : EINVAL,
                        std::string("cannot create the macvlan: ") + nl_geterror(rc) +
                            " (directord needs CAP_NET_ADMIN and a kernel with macvlan)");
        out.ifindex = static_cast<int>(::if_nametoindex(spec.name.c_str()));
        if (!out.ifindex) return fail(ENODEV, "created, then gone");
        out.created = true;
        base::log::notice("vrrp: VMAC ", spec.name, " (", macText(spec.mac), ") created on ", spec.parent);
    }
    // the report rules follow the set of VMACs (a restarted instance's repeated ensures change nothing)
    const auto known = vmacs_.find(spec.name);
    if (known == vmacs_.end() || known->second.parent != spec.parent || known->second.family != spec.family) {
        vmacs_[spec.name] = Vmac{spec.parent, spec.family};
        vmacFilters();
    }
    // keepalived's settings: ARP answered only for the macvlan's own addresses (the VIPs), from any
    // source (accept_local: a peer's advert from the same machine), no reverse-path filter
    writeSysctl(false, spec.name, "arp_ignore", 1);
    if (!v6) {
        writeSysctl(false, spec.name, "accept_local", 1);
        writeSysctl(false, spec.name, "rp_filter", 0);
        writeSysctl(false, spec.name, "promote_secondaries", 1);
        writeSysctl(true, spec.name, "disable_ipv6", 1);  // silent: no router solicitation, no MLD
        // the parent answers ARP only for its own addresses, not for the VIPs on the macvlan; and
        // (directord's, not keepalived's) asks with its own address, not a VIP, so no client
        // learns a VIP at the parent's MAC from the master's own ARP requests
        writeSysctl(false, spec.parent, "arp_ignore", 1);
        writeSysctl(false, spec.parent, "arp_filter", 1);
        writeSysctl(false, spec.parent, "arp_announce", 2);
    } else {
        writeSysctl(true, spec.name, "disable_ipv6", 0);
        writeSysctl(true, spec.name, "addr_gen_mode", 1);  // none: no address from the virtual MAC
        writeSysctl(true, spec.name, "accept_ra", 0);      // no router solicitation from the virtual MAC
    }
    LinkPtr change;
    change.p = rtnl_link_alloc();
    rtnl_link_set_flags(change.p, IFF_UP);
    if (out.created && !v6) {  // (the kernel takes an alias on a change, not at creation)
        const Saved& s = parents_[spec.parent];
        std::string alias = std::string(kAliasHead) + " arp_ignore " + std::to_string(s.arpIgnore) +
                            " arp_filter " + std::to_string(s.arpFilter) + " arp_announce " +
                            std::to_string(s.arpAnnounce) + " all.rp_filter " + std::to_string(rpAll_.value_or(0)) +
                            " default.rp_filter " + std::to_string(rpDefault_.value_or(-1));
        if (!rpRaised_.empty()) {  // as many as an alias holds (255 bytes): the rest stay raised at the end
            std::string list;
            for (const auto& [n, v] : rpRaised_) {
                const std::string item = (list.empty() ? "" : ",") + n + ":" + std::to_string(v);
                if (alias.size() + 8 + list.size() + item.size() > 255) break;
                list += item;
            }
            alias += " raised " + list;
        }
        rtnl_link_set_ifalias(change.p, alias.c_str());
    }
    LinkPtr self;
    if (rtnl_link_get_kernel(sock_, out.ifindex, nullptr, &self.p) < 0 || !self.p ||
        rtnl_link_change(sock_, self.p, change.p, 0) < 0)
        return fail(EIO, "cannot bring it up");
    if (v6 && spec.linkLocal) {
        rtnl_addr* a = rtnl_addr_alloc();
        rtnl_addr_set_ifindex(a, out.ifindex);
        nl_addr* local = nl_addr_build(AF_INET6, spec.linkLocal->bytes().data(), 16);
        nl_addr_set_prefixlen(local, 64);
        rtnl_addr_set_local(a, local);
        nl_addr_put(local);
        rtnl_addr_set_flags(a, IFA_F_NODAD);  // the parent's own link-local address, already checked
        const int rc = rtnl_addr_add(sock_, a, NLM_F_CREATE | NLM_F_REPLACE);
        rtnl_addr_put(a);
        if (rc < 0 && rc != -NLE_EXIST)
            return fail(EINVAL, std::string("cannot add its link-local address: ") + nl_geterror(rc));
    }
    return out;
}

void NetHost::removeVmac(const VmacSpec& spec) {
    if (!sock_) return;
    LinkPtr have;
    if (rtnl_link_get_kernel(sock_, 0, spec.name.c_str(), &have.p) >= 0 && have.p) {
        const char* type = rtnl_link_get_type(have.p);
        if (type && std::strcmp(type, "macvlan") == 0) {  // never a link that is not a VMAC
            if (const int rc = rtnl_link_delete(sock_, have.p); rc < 0)
                base::log::warning("vrrp: cannot remove VMAC ", spec.name, ": ", nl_geterror(rc));
            else base::log::notice("vrrp: VMAC ", spec.name, " removed");
        }
    }
    if (vmacs_.erase(spec.name) == 0) return;
    vmacFilters();
    auto onParent = [&](const std::string& parent) {
        for (const auto& [n, v] : vmacs_)
            if (v.parent == parent && v.family == base::Family::V4) return true;
        return false;
    };
    if (auto p = parents_.find(spec.parent); p != parents_.end() && !onParent(spec.parent)) {
        const Saved& s = p->second;
        for (const auto& [param, was] : {std::pair<const char*, int>{"arp_ignore", s.arpIgnore},
                                         {"arp_filter", s.arpFilter},
                                         {"arp_announce", s.arpAnnounce}})
            if (was >= 0 && readSysctl(false, spec.parent, param) != was) writeSysctl(false, spec.parent, param, was);
        base::log::info("vrrp: ", spec.parent, "'s ARP settings put back (arp_ignore ", s.arpIgnore, ", arp_filter ",
                        s.arpFilter, ", arp_announce ", s.arpAnnounce, ")");
        parents_.erase(p);
    }
    const bool anyV4 = std::any_of(vmacs_.begin(), vmacs_.end(),
                                   [](const auto& e) { return e.second.family == base::Family::V4; });
    if (!anyV4 && rpCleared_) {
        restoreRpFilter();
        rpCleared_ = false;
    }
}

}  // namespace vrrp
