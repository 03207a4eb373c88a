#include "director/DesiredState.h"

namespace director {
namespace {

std::uint16_t protocolNumber(const std::string& p) {
    if (p == "udp") return kmod::kUdp;
    if (p == "sctp") return kmod::kSctp;
    return kmod::kTcp;
}

kmod::Forwarding forwarding(conf::ForwardingMethod m) {
    switch (m) {
    case conf::ForwardingMethod::Nat: return kmod::Forwarding::Masq;
    case conf::ForwardingMethod::Dr: return kmod::Forwarding::Route;
    case conf::ForwardingMethod::Tun: return kmod::Forwarding::Tunnel;
    }
    return kmod::Forwarding::Masq;
}

}  // namespace

kmod::ServiceKey serviceKey(const conf::VirtualServer& vs) {
    if (vs.fwmark) return kmod::ServiceKey::mark(vs.family, vs.fwmark);
    return kmod::ServiceKey::inet(*vs.address, protocolNumber(vs.protocol), static_cast<std::uint16_t>(vs.port));
}

kmod::Service serviceOf(const conf::VirtualServer& vs) {
    kmod::Service s;
    s.key = serviceKey(vs);
    s.scheduler = vs.scheduler;
    if (vs.persistenceTimeout > 0) s.flags |= kmod::kSvcPersistent;
    if (vs.onePacket) s.flags |= kmod::kSvcOnePacket;
    if (vs.schedFallback) s.flags |= kmod::kSvcSched1;
    if (vs.schedPort) s.flags |= kmod::kSvcSched2;
    s.timeout = static_cast<std::uint32_t>(vs.persistenceTimeout);
    const int prefix = vs.netmaskPrefix();
    if (vs.family == base::Family::V4)
        s.netmask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    else
        s.netmask = static_cast<std::uint32_t>(prefix);
    s.peName = vs.persistenceEngine;
    return s;
}

kmod::Dest destOf(const conf::VirtualServer& vs, const conf::RealServer& rs) {
    kmod::Dest d;
    d.key = kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)};
    d.forwarding = forwarding(rs.forwarding.value_or(vs.forwarding));
    d.weight = static_cast<std::uint32_t>(rs.weight);
    d.upperThreshold = static_cast<std::uint32_t>(rs.upperThreshold);
    d.lowerThreshold = static_cast<std::uint32_t>(rs.lowerThreshold);
    if (d.forwarding == kmod::Forwarding::Tunnel) {
        d.tunnelType = static_cast<kmod::TunnelType>(vs.tunnel.type);
        d.tunnelPort = static_cast<std::uint16_t>(vs.tunnel.port);
        d.tunnelFlags = static_cast<std::uint16_t>(vs.tunnel.checksum);
    }
    return d;
}

kmod::TableState desiredTable(const conf::Config& cfg) {
    kmod::TableState t;
    for (const auto& vs : cfg.virtualServers) {
        const kmod::Service s = serviceOf(vs);
        t.addService(s);
        for (const auto& rs : vs.realServers) t.addDest(s.key, destOf(vs, rs));
    }
    return t;
}

}  // namespace director
