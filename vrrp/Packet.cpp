#include "vrrp/Packet.h"

#include <cstring>

namespace vrrp {

namespace {

std::uint32_t sum16(std::span<const std::uint8_t> data, std::uint32_t acc) {
    size_t i = 0;
    for (; i + 1 < data.size(); i += 2) acc += (std::uint32_t{data[i]} << 8) | data[i + 1];
    if (i < data.size()) acc += std::uint32_t{data[i]} << 8;
    return acc;
}

// The pseudo-header of a VRRP message of `len` bytes.
std::uint32_t pseudoSum(const base::IpAddress& src, const base::IpAddress& dst, size_t len) {
    return pseudoHeaderSum(src, dst, len, kProtocol);
}

}  // namespace

std::uint32_t pseudoHeaderSum(const base::IpAddress& src, const base::IpAddress& dst, size_t len,
                              std::uint8_t protocol) {
    const size_t n = src.isV4() ? 4 : 16;
    std::uint32_t acc = sum16({src.bytes().data(), n}, 0);
    acc = sum16({dst.bytes().data(), n}, acc);
    acc += protocol;
    acc += static_cast<std::uint32_t>(len);  // fits 16 bits for any VRRP or NA message
    return acc;
}

const char* dropName(Drop d) {
    switch (d) {
    case Drop::TooShort: return "too short";
    case Drop::BadVersion: return "bad version";
    case Drop::BadType: return "bad type";
    case Drop::BadLength: return "length does not match the address count";
    case Drop::BadChecksum: return "bad checksum";
    case Drop::BadTtl: return "TTL/hop limit not 255 (with unicast peers: not unicast_ttl)";
    case Drop::AddressFamily: return "address family";
    case Drop::WrongVrid: return "unknown VRID";
    case Drop::AuthType: return "authentication type mismatch";
    case Drop::AuthMismatch: return "authentication failure";
    case Drop::IntervalMismatch: return "advertisement interval mismatch";
    case Drop::AddressMismatch: return "address list mismatch";
    case Drop::Replay: return "AH sequence number not above the last one (replay)";
    case Drop::BadInterval: return "advertisement interval 0";
    case Drop::TooLong: return "longer than any advert (truncated)";
    case Drop::UnknownAuthType: return "unknown authentication type";
    case Drop::AuthExtMissing: return "auth_hmac: no authentication trailer";
    case Drop::AuthExtMalformed: return "auth_hmac: malformed authentication trailer";
    case Drop::AuthExtStale: return "auth_hmac: the sender's clock is outside time_window";
    case Drop::AuthExtUnknownKey: return "auth_hmac: unknown key id";
    case Drop::AuthExtBadHmac: return "auth_hmac: invalid HMAC (another key or a forged advert)";
    case Drop::AuthExtReplay: return "auth_hmac: replayed (sequence not above the last one)";
    case Drop::Count_: break;
    }
    return "?";
}

const char* dropKey(Drop d) {
    switch (d) {
    case Drop::TooShort: return "too_short";
    case Drop::BadVersion: return "bad_version";
    case Drop::BadType: return "bad_type";
    case Drop::BadLength: return "bad_length";
    case Drop::BadChecksum: return "bad_checksum";
    case Drop::BadTtl: return "bad_ttl";
    case Drop::AddressFamily: return "address_family";
    case Drop::WrongVrid: return "wrong_vrid";
    case Drop::AuthType: return "auth_type";
    case Drop::AuthMismatch: return "auth_failure";
    case Drop::IntervalMismatch: return "interval_mismatch";
    case Drop::AddressMismatch: return "address_mismatch";
    case Drop::Replay: return "ah_replay";
    case Drop::BadInterval: return "bad_interval";
    case Drop::TooLong: return "too_long";
    case Drop::UnknownAuthType: return "unknown_auth_type";
    case Drop::AuthExtMissing: return "auth_ext_missing";
    case Drop::AuthExtMalformed: return "auth_ext_malformed";
    case Drop::AuthExtStale: return "auth_ext_stale";
    case Drop::AuthExtUnknownKey: return "auth_ext_unknown_key";
    case Drop::AuthExtBadHmac: return "auth_ext_invalid_hmac";
    case Drop::AuthExtReplay: return "auth_ext_replay";
    case Drop::Count_: break;
    }
    return "?";
}

std::uint16_t inetChecksum(std::span<const std::uint8_t> data, std::uint32_t initial) {
    std::uint32_t acc = sum16(data, initial);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc & 0xffff);
}

std::vector<std::uint8_t> encode(const Advert& a, const base::IpAddress& src, const base::IpAddress& dst,
                                 ChecksumMode mode) {
    const bool v6 = !a.addresses.empty() ? !a.addresses.front().isV4() : !src.isV4();
    const size_t addrLen = v6 ? 16 : 4;
    std::vector<std::uint8_t> out(8 + a.addresses.size() * addrLen + (a.version == 2 ? 8 : 0), 0);
    out[0] = static_cast<std::uint8_t>((a.version << 4) | 1);
    out[1] = a.vrid;
    out[2] = a.priority;
    out[3] = static_cast<std::uint8_t>(a.addresses.size());
    if (a.version == 2) {
        out[4] = static_cast<std::uint8_t>(a.auth);
        out[5] = static_cast<std::uint8_t>(std::max<long>(1, a.interval.count() / 1000000));
    } else {
        const int cs = toCentiseconds(a.interval) & 0x0fff;
        out[4] = static_cast<std::uint8_t>(cs >> 8);
        out[5] = static_cast<std::uint8_t>(cs & 0xff);
    }
    size_t pos = 8;
    for (const auto& addr : a.addresses) {
        std::memcpy(out.data() + pos, addr.bytes().data(), addrLen);
        pos += addrLen;
    }
    if (a.version == 2) std::memcpy(out.data() + pos, a.authData.data(), 8);
    const bool pseudo = a.version == 3 && (v6 || mode.v3PseudoHeader);
    const std::uint16_t ck = inetChecksum(out, pseudo ? pseudoSum(src, dst, out.size()) : 0);
    out[6] = static_cast<std::uint8_t>(ck >> 8);
    out[7] = static_cast<std::uint8_t>(ck & 0xff);
    return out;
}

size_t expectedLength(std::span<const std::uint8_t> msg, bool v6) {
    if (msg.size() < 8) return 0;
    const int version = msg[0] >> 4;
    return 8 + size_t{msg[3]} * (v6 ? 16 : 4) + (version == 2 ? 8 : 0);
}

std::variant<Decoded, Drop> decode(std::span<const std::uint8_t> whole, const base::IpAddress& src,
                                   const base::IpAddress& dst, size_t trailer) {
    if (whole.size() < 8 + trailer) return Drop::TooShort;
    const std::span<const std::uint8_t> msg = whole.first(whole.size() - trailer);
    const int version = msg[0] >> 4;
    if (version != 2 && version != 3) return Drop::BadVersion;
    if ((msg[0] & 0x0f) != 1) return Drop::BadType;
    const bool v6 = !src.isV4();
    if (version == 2 && v6) return Drop::AddressFamily;  // VRRPv2 is IPv4 only
    const size_t addrLen = v6 ? 16 : 4;
    const size_t count = msg[3];
    const size_t expected = 8 + count * addrLen + (version == 2 ? 8 : 0);
    // the length must match the address count (v2: plus its 8 bytes of authentication data)
    if (msg.size() != expected) return Drop::BadLength;
    Decoded d;
    if (version == 2) {
        if (inetChecksum(msg) != 0) return Drop::BadChecksum;
    } else if (v6) {
        if (inetChecksum(whole, pseudoSum(src, dst, whole.size())) != 0) return Drop::BadChecksum;
        d.pseudoHeaderChecksum = true;
    } else if (inetChecksum(msg, pseudoSum(src, dst, msg.size())) == 0) {
        d.pseudoHeaderChecksum = true;
    } else if (inetChecksum(msg) != 0) {
        return Drop::BadChecksum;
    }
    Advert& a = d.advert;
    a.version = version;
    a.vrid = msg[1];
    a.priority = msg[2];
    if (version == 2) {
        a.auth = static_cast<AuthType>(msg[4]);
        a.interval = Micros(std::int64_t{msg[5]} * 1000000);
        std::memcpy(a.authData.data(), msg.data() + 8 + count * addrLen, 8);
    } else {
        a.interval = Micros(std::int64_t{((msg[4] & 0x0f) << 8) | msg[5]} * 10000);
    }
    for (size_t i = 0; i < count; ++i)
        a.addresses.push_back(
            base::IpAddress::fromBytes(v6 ? base::Family::V6 : base::Family::V4, msg.data() + 8 + i * addrLen));
    return d;
}

}  // namespace vrrp
