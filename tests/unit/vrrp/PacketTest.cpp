// The VRRP codec against frames sent by keepalived 2.2.7 (../shared/captures): every byte,
// checksums included.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "vrrp/Packet.h"

using namespace std::chrono_literals;
using vrrp::Advert;

namespace {

std::vector<std::uint8_t> hex(const char* s) {
    std::vector<std::uint8_t> out;
    std::string digits;
    for (const char* p = s; *p; ++p)
        if (std::isxdigit(static_cast<unsigned char>(*p))) digits += *p;
    for (size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    return out;
}

const auto d1 = *base::IpAddress::parse("10.99.0.11");
const auto d2 = *base::IpAddress::parse("10.99.0.12");
const auto group = *base::IpAddress::parse("224.0.0.18");
const auto vip = *base::IpAddress::parse("10.99.0.10");

Advert keepalivedAdvert(int version, std::uint8_t prio, vrrp::Micros interval) {
    Advert a;
    a.version = version;
    a.vrid = 51;
    a.priority = prio;
    a.interval = interval;
    a.addresses = {vip};
    return a;
}

Advert decoded(const std::vector<std::uint8_t>& bytes, const base::IpAddress& src, const base::IpAddress& dst) {
    auto r = vrrp::decode(bytes, src, dst);
    REQUIRE(std::holds_alternative<vrrp::Decoded>(r));
    return std::get<vrrp::Decoded>(r).advert;
}

}  // namespace

TEST_CASE("VRRPv2: keepalived's adverts, byte for byte (multicast, priority 0, unicast)") {
    const auto frame1 = hex("2133 9601 0001 3e5d 0a63 000a 0000 0000 0000 0000");
    CHECK(vrrp::encode(keepalivedAdvert(2, 150, 1s), d1, group) == frame1);
    CHECK(decoded(frame1, d1, group) == keepalivedAdvert(2, 150, 1s));
    const auto frame2 = hex("2133 0001 0001 d45d 0a63 000a 0000 0000 0000 0000");
    CHECK(vrrp::encode(keepalivedAdvert(2, 0, 1s), d1, group) == frame2);
    // v2's checksum covers the message only: the same bytes unicast
    CHECK(vrrp::encode(keepalivedAdvert(2, 150, 1s), d1, d2) == frame1);
}

TEST_CASE("VRRPv2: PASS authentication carries the first 8 bytes of the password") {
    const auto frame3 = hex("2133 9601 0101 b0eb 0a63 000a 7333 6372 6574 5057");
    Advert a = keepalivedAdvert(2, 150, 1s);
    a.auth = vrrp::AuthType::Pass;
    std::memcpy(a.authData.data(), "s3cretPW", 8);
    CHECK(vrrp::encode(a, d1, group) == frame3);
    CHECK(decoded(frame3, d1, group) == a);
}

TEST_CASE("VRRPv3 over IPv4: pseudo-header checksum as keepalived sends it; both accepted") {
    const auto frame5 = hex("3133 9601 0064 42fd 0a63 000a");
    CHECK(vrrp::encode(keepalivedAdvert(3, 150, 1s), d1, group) == frame5);
    auto r = vrrp::decode(frame5, d1, group);
    REQUIRE(std::holds_alternative<vrrp::Decoded>(r));
    CHECK(std::get<vrrp::Decoded>(r).pseudoHeaderChecksum);
    CHECK(std::get<vrrp::Decoded>(r).advert == keepalivedAdvert(3, 150, 1s));
    // RFC 9568: without the pseudo-header (the capture notes 2dfa)
    const auto plain = vrrp::encode(keepalivedAdvert(3, 150, 1s), d1, group, vrrp::ChecksumMode{false});
    CHECK(plain == hex("3133 9601 0064 2dfa 0a63 000a"));
    r = vrrp::decode(plain, d1, group);
    REQUIRE(std::holds_alternative<vrrp::Decoded>(r));
    CHECK_FALSE(std::get<vrrp::Decoded>(r).pseudoHeaderChecksum);
    // 10 ms: 1 centisecond
    CHECK(vrrp::encode(keepalivedAdvert(3, 150, 10ms), d1, group) == hex("3133 9601 0001 4360 0a63 000a"));
    // unicast: the pseudo-header has the peer's address
    const auto frame7 = hex("3133 9601 0064 18a1 0a63 000a");
    CHECK(vrrp::encode(keepalivedAdvert(3, 150, 1s), d1, d2) == frame7);
    CHECK(decoded(frame7, d1, d2) == keepalivedAdvert(3, 150, 1s));
}

TEST_CASE("VRRPv3 over IPv6: the checksum always covers the pseudo-header") {
    Advert a = keepalivedAdvert(3, 200, 500ms);
    a.addresses = {*base::IpAddress::parse("2001:db8::10"), *base::IpAddress::parse("2001:db8::11")};
    const auto src = *base::IpAddress::parse("fe80::1");
    const auto dst = *base::IpAddress::parse("ff02::12");
    const auto bytes = vrrp::encode(a, src, dst, vrrp::ChecksumMode{false});
    CHECK(bytes.size() == 8 + 32);
    CHECK(decoded(bytes, src, dst) == a);
    auto other = vrrp::decode(bytes, *base::IpAddress::parse("fe80::2"), dst);  // another sender: wrong checksum
    REQUIRE(std::holds_alternative<vrrp::Drop>(other));
    CHECK(std::get<vrrp::Drop>(other) == vrrp::Drop::BadChecksum);
}

TEST_CASE("VRRP: malformed adverts are dropped with their reason, never read out of bounds") {
    const auto good = hex("3133 9601 0064 42fd 0a63 000a");
    auto reason = [&](std::vector<std::uint8_t> b, const base::IpAddress& src = d1) {
        auto r = vrrp::decode(b, src, group);
        return std::holds_alternative<vrrp::Drop>(r) ? std::get<vrrp::Drop>(r) : vrrp::Drop::Count_;
    };
    CHECK(reason({0x31, 0x33, 0x96}) == vrrp::Drop::TooShort);
    auto b = good;
    b[0] = 0x41;
    CHECK(reason(b) == vrrp::Drop::BadVersion);
    b = good;
    b[0] = 0x32;
    CHECK(reason(b) == vrrp::Drop::BadType);
    b = good;
    b[3] = 2;  // claims two addresses
    CHECK(reason(b) == vrrp::Drop::BadLength);
    b = good;
    b[11] ^= 1;
    CHECK(reason(b) == vrrp::Drop::BadChecksum);
    CHECK(reason(hex("2133 9601 0001 3e5d 0a63 000a 0000 0000 0000 0000"), *base::IpAddress::parse("fe80::1")) ==
          vrrp::Drop::AddressFamily);
    std::mt19937 rng(7);
    for (int i = 0; i < 100000; ++i) {  // random bytes: a drop or an advert, nothing else
        std::vector<std::uint8_t> r(rng() % 64);
        for (auto& c : r) c = static_cast<std::uint8_t>(rng());
        if (!r.empty() && (rng() & 1)) r[0] = (rng() & 1) ? 0x21 : 0x31;
        (void)vrrp::decode(r, (i & 1) ? d1 : *base::IpAddress::parse("fe80::1"), group);
    }
    for (int d = 0; d < static_cast<int>(vrrp::Drop::Count_); ++d)
        CHECK(std::string(vrrp::dropName(static_cast<vrrp::Drop>(d))) != "?");
}
