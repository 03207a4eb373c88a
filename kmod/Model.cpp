#include "kmod/Model.h"

namespace kmod {

ServiceKey ServiceKey::mark(base::Family f, std::uint32_t fwmark) {
    base::IpAddress unspecified = f == base::Family::V4 ? base::IpAddress::v4(0) : *base::IpAddress::parse("::");
    return ServiceKey{unspecified, 0, 0, fwmark};
}

std::string ServiceKey::str() const {
    if (isFwmark()) return "FWM  " + std::to_string(fwmark) + (family() == base::Family::V6 ? " IPv6" : "");
    return std::string(protocolName(protocol)) + "  " + DestKey{address, port}.str();
}

std::string DestKey::str() const {
    return address.isV4() ? address.str() + ":" + std::to_string(port)
                          : "[" + address.str() + "]:" + std::to_string(port);
}

size_t TableState::destCount() const {
    size_t n = 0;
    for (const auto& [k, e] : services) n += e.dests.size();
    return n;
}

const char* kindName(Op::Kind k) {
    switch (k) {
    case Op::Kind::AddService: return "add-service";
    case Op::Kind::EditService: return "edit-service";
    case Op::Kind::DelService: return "del-service";
    case Op::Kind::AddDest: return "add-dest";
    case Op::Kind::EditDest: return "edit-dest";
    case Op::Kind::DelDest: return "del-dest";
    }
    return "?";
}

const char* protocolName(std::uint16_t proto) {
    switch (proto) {
    case kTcp: return "TCP";
    case kUdp: return "UDP";
    case kSctp: return "SCTP";
    default: return "?";
    }
}

const char* forwardingName(Forwarding f) {
    switch (f) {
    case Forwarding::Masq: return "Masq";
    case Forwarding::LocalNode: return "Local";
    case Forwarding::Tunnel: return "Tunnel";
    case Forwarding::Route: return "Route";
    }
    return "?";
}

std::string Op::str() const {
    std::string s = std::string(kindName(kind)) + " " + service.key.str();
    if (!isServiceOp()) s += " -> " + dest.key.str() + " weight " + std::to_string(dest.weight);
    else if (kind != Kind::DelService) s += " " + service.scheduler;
    return s;
}

}  // namespace kmod
