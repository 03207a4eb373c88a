// Whether an instance takes a received packet as an advert, as a pure function (no I/O, no
// state): TTL / hop limit 255 without unicast peers (unicast_ttl with them), AH (its ICV and sequence), the codec's structure and
// checksum, then the instance's rules: VRID, version, interval (never 0), v2 authentication and
// interval, unicast peers. Its own packets (multicast loop, unicast echo) are ignored, not counted.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <variant>

#include "conf/Config.h"
#include "vrrp/Host.h"
#include "vrrp/Packet.h"

namespace vrrp {

struct AcceptContext {
    const conf::VrrpInstance& cfg;
    base::IpAddress self;  // the address we send from
    const std::array<std::uint8_t, 8>& ahKey;
    std::uint32_t ahSequence = 0;  // the highest AH sequence seen or sent
    // VRIDs of this router's other instances on the link (same family): their adverts are not
    // ours, and no error (RFC 2787's vrrpRouterVrIdErrors counts VRIDs configured on no virtual
    // router of this router; keepalived counts nothing for them either)
    const std::set<int>* siblings = nullptr;
};

struct Accepted {
    Advert advert;
    std::optional<std::uint32_t> ahSequence;  // AH: the packet's sequence (the caller stores it)
};
struct Ignored {};

// AH is used for VRRPv2 over IPv4 with authentication AH.
bool usesAh(const conf::VrrpInstance& cfg);

std::variant<Accepted, Drop, Ignored> judge(const AcceptContext& ctx, const Received& pkt);

}  // namespace vrrp
