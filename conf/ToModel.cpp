#include "conf/ToModel.h"

namespace conf {
namespace {

std::uint16_t protocolNumber(const std::string& p) {
    if (p == "udp") return kmod::kUdp;
    if (p == "sctp") return kmod::kSctp;
    return kmod::kTcp;
}

}  // namespace

kmod::ServiceKey serviceKey(const VirtualServer& vs) {
    if (vs.fwmark) return kmod::ServiceKey::mark(vs.family, vs.fwmark);
    return kmod::ServiceKey::inet(*vs.address, protocolNumber(vs.protocol), static_cast<std::uint16_t>(vs.port));
}

kmod::Service serviceOf(const VirtualServer& vs) {
    kmod::Service s;
    s.key = serviceKey(vs);
    s.scheduler = vs.scheduler;
    if (vs.persistenceTimeout > 0) s.flags |= kmod::kSvcPersistent;
    if (vs.onePacket) s.flags |= kmod::kSvcOnePacket;
    if (vs.schedFallback) s.flags |= kmod::kSvcSched1;
    if (vs.schedPort) s.flags |= kmod::kSvcSched2;
    s.timeout = static_cast<std::uint32_t>(vs.persistenceTimeout);
    const int prefix = vs.netmaskPrefix();
    if (vs.family == base::Family::V4) s.netmask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    else s.netmask = static_cast<std::uint32_t>(prefix);
    s.peName = vs.persistenceEngine;
    return s;
}

kmod::Dest destOf(const VirtualServer& vs, const RealServer& rs) {
    kmod::Dest d;
    d.key = kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)};
    d.forwarding = rs.forwarding.value_or(vs.forwarding);
    d.weight = static_cast<std::uint32_t>(rs.weight);
    d.upperThreshold = static_cast<std::uint32_t>(rs.upperThreshold);
    d.lowerThreshold = static_cast<std::uint32_t>(rs.lowerThreshold);
    if (d.forwarding == kmod::Forwarding::Tunnel) {
        d.tunnelType = vs.tunnel.type;
        d.tunnelPort = static_cast<std::uint16_t>(vs.tunnel.port);
        d.tunnelFlags = vs.tunnel.checksum;
    }
    return d;
}

}  // namespace conf
