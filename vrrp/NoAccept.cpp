// NetHost's nftables: keepalived's no_accept rules (accept_mode = false), and the one nft context
// the VMAC report rules (Vmac.cpp) share.
#include <set>
#include <tuple>

#include "base/Log.h"
#include "kmod/nftables/Nft.h"
#include "vrrp/Net.h"

namespace vrrp {

kmod::nftables::Nft& NetHost::nft() {
    if (!nft_) nft_ = std::make_unique<kmod::nftables::Nft>();
    return *nft_;
}

// keepalived's no_accept (vrrp_nftables.c, nft_add_addresses): a master that does not own its VIPs
// takes no traffic for them; neighbour discovery for them still answers. Tables of directord's own,
// rewritten whole in one batch on each change (the kernel has all of it or none).
std::error_code NetHost::blockAddresses(const std::string& instance, const std::vector<base::IpAddress>& addresses) {
    if (addresses.empty()) blocked_.erase(instance);
    else blocked_[instance] = addresses;
    std::set<base::IpAddress> all;
    for (const auto& [name, list] : blocked_) all.insert(list.begin(), list.end());
    std::string v4, v6;
    for (const auto& a : all) {
        std::string& to = a.isV4() ? v4 : v6;
        to += (to.empty() ? "" : ", ") + a.str();
    }
    std::string batch;
    for (const auto& [fam, elems] : {std::pair<std::string, std::string>{"ip", v4}, {"ip6", v6}}) {
        batch += "add table " + fam + " directord_vrrp\ndelete table " + fam + " directord_vrrp\n";
        if (elems.empty()) continue;
        const std::string t = fam + " directord_vrrp ", addr = fam == "ip" ? "ip" : "ip6";
        const std::string nd =
            fam == "ip6" ? "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n" : std::string();
        batch += "add table " + t + "\nadd set " + t + "vips { type " + (fam == "ip" ? "ipv4_addr" : "ipv6_addr") +
                 "; }\nadd element " + t + "vips { " + elems + " }\n";
        for (const auto& [chain, hook, dir] : {std::tuple<const char*, const char*, const char*>{"in", "input", "daddr"},
                                               {"out", "output", "saddr"}}) {
            batch += "add chain " + t + chain + " { type filter hook " + hook + " priority -1; policy accept; }\n";
            if (!nd.empty()) batch += "add rule " + t + chain + " " + nd;
            batch += "add rule " + t + chain + " " + addr + " " + dir + " @vips drop\n";
        }
    }
    if (const auto err = nft().ok() ? nft().run(batch) : std::optional<std::string>("no nftables context")) {
        base::log::error("vrrp: ", instance, ": cannot install the no_accept rules: ", *err,
                         " (directord needs nf_tables in the kernel for accept_mode = false)");
        return {EIO, std::generic_category()};
    }
    return {};
}

}  // namespace vrrp
