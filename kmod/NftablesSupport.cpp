#include "kmod/NftablesSupport.h"

#include <set>

namespace kmod {

std::optional<std::string> nftablesUnsupported(const Service& s) {
    static const std::set<std::string> ok = {"rr", "wrr", "sh", "dh", "mh", "fo"};
    if (!ok.contains(s.scheduler))
        return "the " + s.scheduler +
               " scheduler needs live connection counts, which only the kernel's IPVS and the userspace plane keep"
               " (the nftables plane has rr, wrr, sh, dh, mh and fo)";
    if ((s.scheduler == "sh" || s.scheduler == "mh") && (s.flags & kSvcSched1))
        return "the " + s.scheduler + " fallback flag re-hashes per connection, which nftables cannot express";
    if (s.flags & kSvcOnePacket) return "one-packet scheduling (ops) is not on the nftables plane";
    if (!s.peName.empty()) return "persistence engines (" + s.peName + ") are not on the nftables plane";
    if (!s.key.isFwmark() && s.key.port == 0) return "a virtual port 0 (all ports) is not on the nftables plane";
    return std::nullopt;
}

std::optional<std::string> nftablesUnsupported(const Service& s, const Dest& d) {
    if (d.forwarding != Forwarding::Masq)
        return std::string("forwarding ") +
               (d.forwarding == Forwarding::Route ? "dr" : d.forwarding == Forwarding::Tunnel ? "tun" : "local") +
               " needs the kernel's IPVS: the nftables plane forwards by NAT (DNAT)";
    if (d.upperThreshold || d.lowerThreshold)
        return "connection thresholds need live connection counts (the kernel's IPVS or the userspace plane)";
    if (d.key.address.family() != s.key.family()) return "a real server of another family needs a tunnel";
    if (s.key.isFwmark() && d.key.port != 0)
        return "a fwmark service's real servers keep the client's port on the nftables plane (port 0)";
    return std::nullopt;
}

}  // namespace kmod
