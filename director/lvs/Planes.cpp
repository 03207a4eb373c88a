#include "director/lvs/Planes.h"

#include "base/Log.h"
#include "conf/Validate.h"
#include "kmod/memory/InMemoryIpvsTable.h"
#include "kmod/netlink/NetlinkIpvsTable.h"
#include "kmod/nftables/NftablesIpvsTable.h"
#include "kmod/userspace/UserspaceIpvsTable.h"

namespace director::lvs {

namespace {

kmod::nftables::RulesetOptions nftOptions(const conf::Config& cfg) {
    return kmod::nftables::RulesetOptions{cfg.global.nftables.table, cfg.global.nftables.sourceNat};
}

}  // namespace

std::optional<conf::DataPlane> resolvePlane(const conf::Config& cfg) {
    auto kernel = [](const char* how) {
        auto t = kmod::netlink::NetlinkIpvsTable::open();
        if (!t) return false;
        if (const auto info = t.value()->info())
            base::log::info("data plane: ", how, "kernel IPVS ", info->version >> 16, ".", (info->version >> 8) & 0xff,
                            ".", info->version & 0xff, " over generic netlink (connection table ", info->connTableSize,
                            ")");
        return true;
    };
    auto nftables = [&](std::string& why) {
        if (!kmod::nftables::NftablesIpvsTable::open(nftOptions(cfg), why)) return false;
        return true;
    };
    std::string why;
    switch (cfg.global.dataPlane) {
    case conf::DataPlane::Memory:
        base::log::info("data plane: in-memory table (dry run: nothing is forwarded)");
        return conf::DataPlane::Memory;
    case conf::DataPlane::Auto: {
        if (kernel("auto: ")) return conf::DataPlane::Kernel;
        const auto problems = conf::planeProblems(cfg, conf::DataPlane::Nftables);
        if (problems.empty() && nftables(why)) {
            base::log::info(
                "data plane: auto: this kernel has no IPVS (the generic netlink family \"IPVS\" does not"
                " resolve, even after modprobe ip_vs); it has nf_tables: the nftables plane (DNAT in table"
                " inet ",
                cfg.global.nftables.table, ")");
            return conf::DataPlane::Nftables;
        }
        base::log::info(
            "data plane: auto: this kernel has no IPVS (the generic netlink family \"IPVS\" does not"
            " resolve, even after modprobe ip_vs), and the nftables plane ",
            problems.empty()
                ? "cannot run here (" + why + ")"
                : "cannot do " + problems[0].str() +
                      (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : std::string()),
            "; using the userspace data plane");
        return conf::DataPlane::Userspace;
    }
    case conf::DataPlane::Nftables:
        if (nftables(why)) {
            base::log::info("data plane: nftables (DNAT in table inet ", cfg.global.nftables.table, ")");
            return conf::DataPlane::Nftables;
        }
        base::log::error("data plane: data_plane = \"nftables\", but ", why,
                         "; run directord as root on a kernel with nf_tables, or set data_plane = \"auto\"");
        return std::nullopt;
    case conf::DataPlane::Userspace:
        base::log::info("data plane: userspace (full NAT TCP/UDP proxy)");
        return conf::DataPlane::Userspace;
    case conf::DataPlane::Kernel:
        if (kernel("")) return conf::DataPlane::Kernel;
        base::log::error(
            "data plane: data_plane = \"kernel\", but this kernel has no IPVS (the generic netlink family"
            " \"IPVS\" does not resolve, even after modprobe ip_vs); load ip_vs, or set data_plane ="
            " \"auto\" or \"userspace\" to forward in userspace");
        return std::nullopt;
    }
    return std::nullopt;
}

std::unique_ptr<kmod::IpvsTable> makeTable(conf::DataPlane resolved, const conf::Config& cfg,
                                           std::unique_ptr<kmod::userspace::PlaneLink> remote) {
    switch (resolved) {
    case conf::DataPlane::Memory: return std::make_unique<kmod::memory::InMemoryIpvsTable>();
    case conf::DataPlane::Userspace:
        if (remote) return std::make_unique<kmod::userspace::UserspaceIpvsTable>(std::move(remote));
        return std::make_unique<kmod::userspace::UserspaceIpvsTable>();
    case conf::DataPlane::Nftables: {
        std::string why;
        auto t = kmod::nftables::NftablesIpvsTable::open(nftOptions(cfg), why);
        if (!t) base::log::error("data plane: cannot open the nftables plane: ", why);
        return t;
    }
    case conf::DataPlane::Kernel: {
        auto t = kmod::netlink::NetlinkIpvsTable::open();
        if (!t) {
            base::log::error("data plane: cannot open the kernel's IPVS: ", t.error().message());
            return nullptr;
        }
        return std::move(t).value();
    }
    case conf::DataPlane::Auto: break;
    }
    return nullptr;
}

kmod::ForwardingLimits forwardingLimits(const conf::Config& cfg) {
    const auto& u = cfg.global.userspace;
    kmod::ForwardingLimits l;
    l.udpFlows = static_cast<std::uint32_t>(u.udpFlows);
    l.udpFlowsPerSource = static_cast<std::uint32_t>(u.udpFlowsPerSource);
    l.udpUnansweredTimeout = static_cast<std::uint32_t>(u.udpUnansweredTimeout);
    l.tcpConnections = static_cast<std::uint32_t>(u.tcpConnections);
    l.tcpConnectionsPerSource = static_cast<std::uint32_t>(u.tcpConnectionsPerSource);
    l.tcpProgressTimeout = static_cast<std::uint32_t>(u.tcpProgressTimeout);
    l.sourcePrefixV4 = static_cast<std::uint8_t>(u.sourcePrefixV4);
    l.sourcePrefixV6 = static_cast<std::uint8_t>(u.sourcePrefixV6);
    return l;
}

std::optional<kmod::Timeouts> ipvsTimeouts(const conf::Config& cfg) {
    const auto& t = cfg.global.ipvsTimeouts;
    if (!t.tcp && !t.tcpFin && !t.udp) return std::nullopt;
    return kmod::Timeouts{static_cast<std::uint32_t>(t.tcp), static_cast<std::uint32_t>(t.tcpFin),
                          static_cast<std::uint32_t>(t.udp)};
}

void applyPlaneSettings(kmod::IpvsTable& table, const conf::Config& cfg) {
    table.setForwardingLimits(forwardingLimits(cfg));
    const auto t = ipvsTimeouts(cfg);
    if (!t) return;
    if (auto ec = table.setTimeouts(*t))
        base::log::error("ipvs: cannot set timeouts (tcp ", t->tcp, " tcpfin ", t->tcpFin, " udp ", t->udp,
                         "): ", ec.message());
}

}  // namespace director::lvs
