// The VRRP advertisement (RFC 3768 v2, RFC 5798/9568 v3) as a pure codec: bytes in, an Advert or the
// reason it is dropped out; an Advert in, bytes out. Checksums included (v3 over IPv4 with or
// without the pseudo-header, as configured on send; both accepted on receive). No sockets here:
// the TTL/hop limit comes from the receiving socket and is checked by the caller.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/IpAddress.h"
#include "conf/Config.h"
#include "vrrp/Timing.h"

namespace vrrp {

inline constexpr std::uint8_t kProtocol = 112;

using conf::AuthType;  // one enum for the config and the wire (its values are the wire's)

struct Advert {
    int version = 3;  // 2 or 3
    std::uint8_t vrid = 0;
    std::uint8_t priority = 100;
    Micros interval{1000000};                // v2: whole seconds on the wire; v3: centiseconds
    AuthType auth = AuthType::None;          // v2 only
    std::array<std::uint8_t, 8> authData{};  // v2 only: PASS carries up to 8 bytes of the password
    std::vector<base::IpAddress> addresses;  // all of one family
    bool operator==(const Advert&) const = default;
};

// Why a received packet was dropped; every drop is counted by reason.
enum class Drop {
    TooShort,
    BadVersion,
    BadType,
    BadLength,
    BadChecksum,
    BadTtl,
    AddressFamily,
    WrongVrid,
    AuthType,
    AuthMismatch,
    IntervalMismatch,
    AddressMismatch,
    Replay,
    BadInterval,  // 0 (v3: below its 10 ms floor): master down would be zero, a takeover storm
    TooLong,      // longer than the receive buffer: cut, so not checked
    UnknownAuthType,  // v2: an authentication type RFC 3768 does not define (not just another one)
    // auth_hmac (vrrp/AuthHmac.h), keepalived's counters
    AuthExtMissing,     // no trailer, in enforce mode
    AuthExtMalformed,   // not HMAC-SHA256-128, or reserved bytes set
    AuthExtStale,       // time mode: the sender's clock further from ours than the window
    AuthExtUnknownKey,  // a key id we do not have
    AuthExtBadHmac,     // the MAC does not match
    AuthExtReplay,      // a sequence not above the last one accepted from that source
    Count_
};
const char* dropName(Drop d);
const char* dropKey(Drop d);  // snake_case, for status JSON

struct ChecksumMode {
    bool v3PseudoHeader = true;  // v3 over IPv4: keepalived and FRR include it, RFC 9568 does not
};

// The VRRP message (after the IP header). `src`/`dst` are the IP addresses it is sent from/to (the
// v3 checksum covers them).
std::vector<std::uint8_t> encode(const Advert& a, const base::IpAddress& src, const base::IpAddress& dst,
                                 ChecksumMode mode = {});

struct Decoded {
    Advert advert;
    bool pseudoHeaderChecksum = false;  // v3 IPv4: which checksum matched
};
// Structure and checksum only; the instance checks VRID, auth, interval and addresses. With
// `trailer`, the last that many bytes of `msg` are an auth_hmac trailer: the message is the rest,
// and the checksum covers the trailer over IPv6 only (as the kernel's transport checksum does).
std::variant<Decoded, Drop> decode(std::span<const std::uint8_t> msg, const base::IpAddress& src,
                                   const base::IpAddress& dst, size_t trailer = 0);
// The length a message's header says it has (its address count; v2: its authentication data);
// 0 when the bytes are too short to say.
size_t expectedLength(std::span<const std::uint8_t> msg, bool v6);

// The sum of the IPv4 or IPv6 pseudo-header (source, destination, length, protocol / next header)
// for inetChecksum's `initial`: VRRPv3 (protocol 112) and ICMPv6 (58) checksums start from it.
std::uint32_t pseudoHeaderSum(const base::IpAddress& src, const base::IpAddress& dst, size_t len,
                              std::uint8_t protocol);

// The Internet checksum (RFC 1071) of `data` after `initial` (a pseudo-header sum).
std::uint16_t inetChecksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0);

}  // namespace vrrp
