#include "vrrp/Ah.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace vrrp {

namespace {

constexpr size_t kIcvLen = 12;
constexpr size_t kIcvAt = 12;  // within the AH header

// HMAC-MD5-96 over `packet` with the mutable fields zeroed (the ICV too).
std::array<std::uint8_t, kIcvLen> icv(std::span<const std::uint8_t> packet, size_t ipHeaderLen, const AhKey& key,
                                      bool unicast) {
    std::vector<std::uint8_t> copy(packet.begin(), packet.end());
    copy[1] = 0;               // TOS
    copy[6] = copy[7] = 0;     // flags + fragment offset
    if (unicast) copy[8] = 0;  // TTL
    copy[10] = copy[11] = 0;   // header checksum
    std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(ipHeaderLen + kIcvAt), kIcvLen, std::uint8_t{0});
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
    unsigned mdLen = 0;
    HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), copy.data(), copy.size(), md.data(), &mdLen);
    std::array<std::uint8_t, kIcvLen> out{};
    std::copy_n(md.begin(), kIcvLen, out.begin());
    return out;
}

void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}
std::uint32_t get32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

AhKey ahKey(const std::string& password) {
    AhKey k{};
    std::memcpy(k.data(), password.data(), std::min(k.size(), password.size()));
    return k;
}

std::vector<std::uint8_t> ahSeal(std::span<const std::uint8_t> vrrp, const base::IpAddress& src,
                                 const base::IpAddress& dst, const AhKey& key, const AhSeal& s) {
    std::vector<std::uint8_t> p(20 + kAhHeaderLen + vrrp.size(), 0);
    p[0] = 0x45;
    p[1] = 0xc0;
    put16(&p[2], static_cast<std::uint32_t>(p.size()));
    put16(&p[4], s.ipId);
    p[8] = s.ttl;
    p[9] = kAhProtocol;
    std::memcpy(&p[12], src.bytes().data(), 4);
    std::memcpy(&p[16], dst.bytes().data(), 4);
    // the header checksum, which the kernel would fill in too (IP_HDRINCL), so the bytes are final
    const std::uint16_t ck = inetChecksum({p.data(), 20});
    std::uint8_t* ah = &p[20];
    ah[0] = kProtocol;
    ah[1] = 4;                                   // (24 / 4) - 2
    std::memcpy(ah + 4, src.bytes().data(), 4);  // SPI: the source address, as on the wire
    put32(ah + 8, s.sequence);
    std::memcpy(&p[20 + kAhHeaderLen], vrrp.data(), vrrp.size());
    const auto mac = icv(p, 20, key, s.unicast);
    std::memcpy(ah + kIcvAt, mac.data(), kIcvLen);
    put16(&p[10], ck);
    return p;
}

std::variant<AhOpened, Drop> ahOpen(std::span<const std::uint8_t> packet, const AhKey& key) {
    if (packet.size() < 20) return Drop::TooShort;
    const size_t hl = static_cast<size_t>(packet[0] & 0x0f) * 4;
    if ((packet[0] >> 4) != 4 || hl < 20 || packet.size() < hl + kAhHeaderLen + 8) return Drop::TooShort;
    if (packet[9] != kAhProtocol) return Drop::AuthType;
    const std::uint8_t* ah = packet.data() + hl;
    if (ah[0] != kProtocol || ah[1] != 4) return Drop::AuthType;  // not AH around VRRP, or another ICV size
    // unicast packets were sealed with the TTL zeroed
    const bool unicast = !(packet[16] >= 224 && packet[16] <= 239);
    const auto want = icv(packet, hl, key, unicast);
    if (CRYPTO_memcmp(want.data(), ah + kIcvAt, kIcvLen) != 0) return Drop::AuthMismatch;
    if (std::memcmp(ah + 4, packet.data() + 12, 4) != 0) return Drop::AuthMismatch;  // SPI is the sender
    AhOpened o;
    o.sequence = get32(ah + 8);
    o.vrrp = packet.subspan(hl + kAhHeaderLen);
    return o;
}

}  // namespace vrrp
