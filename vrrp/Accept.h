// Whether an instance takes a received packet as an advert, as a pure function (no I/O, no
// state): TTL / hop limit 255 without unicast peers (unicast_ttl with them), AH (its ICV and
// sequence), the codec's structure and checksum, VRID and version, auth_hmac's trailer
// (vrrp/AuthHmac.h), then the instance's rules: interval (never 0), v2 authentication and
// interval, unicast peers. Its own packets (multicast loop, unicast echo) are ignored, not counted.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <variant>

#include "conf/Config.h"
#include "vrrp/AuthHmac.h"
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
    // auth_hmac (cfg.authHmac.enabled): the keys, the replay state, the clock (Unix seconds) and
    // the window in force
    const std::vector<hmac::Key>* hmacKeys = nullptr;
    const hmac::ReplayState* hmacReplay = nullptr;
    std::int64_t nowSeconds = 0;
    std::uint32_t hmacWindow = 0;
};

struct Accepted {
    Advert advert;
    std::optional<std::uint32_t> ahSequence;  // AH: the packet's sequence (the caller stores it)
    std::optional<std::uint64_t> hmacSequence;  // auth_hmac: the trailer's (the caller stores it)
    std::int64_t hmacSkew = 0;                  // ... and the sender's clock minus ours, seconds
};
struct Ignored {};

// AH is used for VRRPv2 over IPv4 with authentication AH.
bool usesAh(const conf::VrrpInstance& cfg);

std::variant<Accepted, Drop, Ignored> judge(const AcceptContext& ctx, const Received& pkt);

}  // namespace vrrp
