// The IPVS model: value types for virtual services and their destinations (real servers), the whole
// table as TableState, and the ops that change it. Both data planes (kernel netlink, userspace) take
// the same ops; diff() (Diff.h) computes them. Pure values: no I/O, no threads.
//
// Fields mirror include/uapi/linux/ip_vs.h so the netlink codec is a direct mapping.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/IpAddress.h"

namespace kmod {

enum Protocol : std::uint16_t { kTcp = 6, kUdp = 17, kSctp = 132 };

// Service flags (IP_VS_SVC_F_*).
inline constexpr std::uint32_t kSvcPersistent = 0x1;
inline constexpr std::uint32_t kSvcHashed = 0x2;
inline constexpr std::uint32_t kSvcOnePacket = 0x4;
inline constexpr std::uint32_t kSvcSched1 = 0x8;   // sh/mh: fallback
inline constexpr std::uint32_t kSvcSched2 = 0x10;  // sh/mh: port
inline constexpr std::uint32_t kSvcSched3 = 0x20;

// Forwarding methods (IP_VS_CONN_F_FWD_MASK values).
enum class Forwarding : std::uint32_t { Masq = 0, LocalNode = 1, Tunnel = 2, Route = 3 };
enum class TunnelType : std::uint8_t { Ipip = 0, Gue = 1, Gre = 2 };
// Tunnel checksum flags (IP_VS_TUNNEL_ENCAP_FLAG_*), their values on the wire.
enum class TunnelChecksum : std::uint16_t { NoCsum = 0, Csum = 1, RemCsum = 2 };

// A virtual service is identified by family + protocol + address + port, or family + fwmark.
struct ServiceKey {
    base::IpAddress address;        // for fwmark services: the unspecified address of the family
    std::uint16_t protocol = kTcp;  // 0 for fwmark services
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;

    base::Family family() const { return address.family(); }
    bool isFwmark() const { return fwmark != 0; }
    static ServiceKey inet(base::IpAddress a, std::uint16_t proto, std::uint16_t port) {
        return ServiceKey{a, proto, port, 0};
    }
    static ServiceKey mark(base::Family f, std::uint32_t fwmark);
    // ipvsadm's way: "TCP  10.0.0.1:80", "FWM  1", "UDP  [2001:db8::1]:53".
    std::string str() const;
    auto operator<=>(const ServiceKey&) const = default;
    bool operator==(const ServiceKey&) const = default;
};

struct Service {
    ServiceKey key;
    std::string scheduler = "wlc";
    std::uint32_t flags = 0;             // kSvc* (kSvcHashed is the kernel's, never set here)
    std::uint32_t timeout = 0;           // persistence timeout, seconds (meaningful with kSvcPersistent)
    std::uint32_t netmask = 0xffffffff;  // IPv4: mask as a host-order u32; IPv6: prefix length (128 whole;
                                         // the all-ones default is taken as 128 by the planes)
    std::string peName;                  // persistence engine ("sip"), empty for none

    bool operator==(const Service&) const = default;
};

struct DestKey {
    base::IpAddress address;
    std::uint16_t port = 0;
    std::string str() const;
    auto operator<=>(const DestKey&) const = default;
    bool operator==(const DestKey&) const = default;
};

struct Dest {
    DestKey key;
    Forwarding forwarding = Forwarding::Masq;
    std::uint32_t weight = 1;
    std::uint32_t upperThreshold = 0;  // 0 = no limit
    std::uint32_t lowerThreshold = 0;
    TunnelType tunnelType = TunnelType::Ipip;
    std::uint16_t tunnelPort = 0;
    TunnelChecksum tunnelFlags = TunnelChecksum::NoCsum;

    bool operator==(const Dest&) const = default;
};

struct ServiceEntry {
    Service service;
    std::map<DestKey, Dest> dests;
    bool operator==(const ServiceEntry&) const = default;
};

struct TableState {
    std::map<ServiceKey, ServiceEntry> services;

    void addService(const Service& s) { services[s.key].service = s; }
    void addDest(const ServiceKey& k, const Dest& d) { services.at(k).dests[d.key] = d; }
    size_t destCount() const;
    bool operator==(const TableState&) const = default;
};

// One change to an IPVS table; the kernel takes exactly one object per netlink command.
struct Op {
    enum class Kind { AddService, EditService, DelService, AddDest, EditDest, DelDest };
    Kind kind;
    Service service;  // for dest ops: the service the dest belongs to (its key is what matters)
    Dest dest;        // meaningful for dest ops only

    bool isServiceOp() const {
        return kind == Kind::AddService || kind == Kind::EditService || kind == Kind::DelService;
    }
    std::string str() const;
    bool operator==(const Op&) const = default;
};

const char* kindName(Op::Kind k);
const char* protocolName(std::uint16_t proto);  // "TCP", "UDP", "SCTP"
const char* forwardingName(Forwarding f);       // "Masq", "Local", "Tunnel", "Route"

}  // namespace kmod
