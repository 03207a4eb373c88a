// VRRPv2 IPsec-AH authentication as keepalived implements it (RFC 2402 framing, HMAC-MD5-96), as
// pure functions over whole IPv4 packets (the sender builds its own IP header: IP_HDRINCL):
//   IP header (protocol 51, TOS 0xc0, TTL 255, id from a counter)
//   AH: next header 112, payload length 4, reserved 0, SPI = the source address, sequence number,
//       12-byte ICV
//   the VRRP message (auth type 2, its 8 authentication bytes zero)
// The ICV is HMAC-MD5 (key: the password, 8 bytes at most, zero-padded) over the whole packet
// with the ICV, TOS, fragment offset and IP checksum zeroed, and the TTL zeroed too for unicast
// (keepalived's rule). The receiver checks the ICV, the SPI, and that the sequence number is
// higher than any it saw or sent (one counter per instance, as keepalived).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/IpAddress.h"
#include "vrrp/Packet.h"

namespace vrrp {

inline constexpr std::uint8_t kAhProtocol = 51;
inline constexpr size_t kAhHeaderLen = 24;

using AhKey = std::array<std::uint8_t, 8>;
AhKey ahKey(const std::string& password);

struct AhSeal {
    std::uint16_t ipId = 1;
    std::uint32_t sequence = 1;
    bool unicast = false;
    std::uint8_t ttl = 255;  // unicast_ttl
};
// The whole IPv4 packet around `vrrp` (a v2 message with auth type AH).
std::vector<std::uint8_t> ahSeal(std::span<const std::uint8_t> vrrp, const base::IpAddress& src,
                                 const base::IpAddress& dst, const AhKey& key, const AhSeal& s);

struct AhOpened {
    std::span<const std::uint8_t> vrrp;  // inside the packet passed in
    std::uint32_t sequence = 0;
};
// Checks the framing, next header, ICV and SPI of a received IPv4 packet (IP header included).
std::variant<AhOpened, Drop> ahOpen(std::span<const std::uint8_t> packet, const AhKey& key);

}  // namespace vrrp
