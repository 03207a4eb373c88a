// VRRPv2 with IPsec-AH against packets keepalived 2.2.7 sent (captured on a bridge in network
// namespaces by tests/fixtures/vrrp/capture-keepalived.sh): every byte of the IP header, the AH
// header and its HMAC-MD5-96 ICV, multicast and unicast (the TTL is part of the ICV only for
// multicast); tampering, a wrong key or SPI, and 100,000 random packets are dropped.
#include <catch2/catch.hpp>

#include <random>

#include "vrrp/Ah.h"

namespace {

std::vector<std::uint8_t> hex(const char* s) {
    std::vector<std::uint8_t> out;
    for (size_t i = 0; s[i] && s[i + 1]; i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(s + i, 2), nullptr, 16)));
    return out;
}

// d1 10.99.0.11 (priority 150) master for VRID 51, VIP 10.99.0.10, auth_pass s3cretPW, advert_int 1
const char* kMulticast[] = {
    "45c0004000010000ff33d0490a63000be0000012700400000a63000b000000016b813a365ad88be32dccdbe62133960102013c5d0a63000a0000000000000000",
    "45c0004000020000ff33d0480a63000be0000012700400000a63000b000000026d07df87965115128e3a3b092133960102013c5d0a63000a0000000000000000",
    "45c0004000030000ff33d0470a63000be0000012700400000a63000b00000003b407c9614d96a371519239b92133960102013c5d0a63000a0000000000000000",
};
// the same with unicast_src_ip 10.99.0.11 and unicast_peer 10.99.0.12
const char* kUnicast[] = {
    "45c0004000010000ff33a5ed0a63000b0a63000c700400000a63000b0000000118236e257308b9b812ced66d2133960102013c5d0a63000a0000000000000000",
    "45c0004000020000ff33a5ec0a63000b0a63000c700400000a63000b00000002e4f708a27ec7e913ae532d392133960102013c5d0a63000a0000000000000000",
};

const auto d1 = *base::IpAddress::parse("10.99.0.11");
const auto d2 = *base::IpAddress::parse("10.99.0.12");
const auto group = *base::IpAddress::parse("224.0.0.18");
const auto vip = *base::IpAddress::parse("10.99.0.10");

std::vector<std::uint8_t> vrrpMessage() {
    vrrp::Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 150;
    a.interval = std::chrono::seconds(1);
    a.auth = vrrp::AuthType::Ah;
    a.addresses = {vip};
    return vrrp::encode(a, d1, group);
}

}  // namespace

TEST_CASE("vrrp ah: keepalived's packets open with the password, and ours are the same bytes") {
    const auto key = vrrp::ahKey("s3cretPW");
    for (int uni = 0; uni < 2; ++uni) {
        const auto& list = uni ? kUnicast : kMulticast;
        const size_t n = uni ? std::size(kUnicast) : std::size(kMulticast);
        for (size_t i = 0; i < n; ++i) {
            INFO((uni ? "unicast " : "multicast ") << i);
            const auto pkt = hex(list[i]);
            auto r = vrrp::ahOpen(pkt, key);
            REQUIRE(std::holds_alternative<vrrp::AhOpened>(r));
            const auto& o = std::get<vrrp::AhOpened>(r);
            CHECK(o.sequence == i + 1);
            auto d = vrrp::decode(o.vrrp, d1, uni ? d2 : group);
            REQUIRE(std::holds_alternative<vrrp::Decoded>(d));
            CHECK(std::get<vrrp::Decoded>(d).advert.auth == vrrp::AuthType::Ah);
            CHECK(std::get<vrrp::Decoded>(d).advert.priority == 150);
            vrrp::AhSeal seal;
            seal.ipId = static_cast<std::uint16_t>(i + 1);
            seal.sequence = static_cast<std::uint32_t>(i + 1);
            seal.unicast = uni == 1;
            CHECK(vrrp::ahSeal(vrrpMessage(), d1, uni ? d2 : group, key, seal) == pkt);
        }
    }
}

TEST_CASE("vrrp ah: a wrong key, a changed byte or SPI fails; mutable fields do not count") {
    const auto key = vrrp::ahKey("s3cretPW");
    const auto pkt = hex(kMulticast[0]);
    CHECK(std::get<vrrp::Drop>(vrrp::ahOpen(pkt, vrrp::ahKey("s3cretPX"))) == vrrp::Drop::AuthMismatch);
    // only 8 characters are the key, as keepalived truncates auth_pass
    CHECK(std::holds_alternative<vrrp::AhOpened>(vrrp::ahOpen(pkt, vrrp::ahKey("s3cretPW-and-more"))));
    for (size_t at : {2u, 4u, 9u, 12u, 19u, 22u, 27u, 44u, 46u, 60u}) {
        auto bad = pkt;
        bad[at] ^= 0x01;
        INFO("byte " << at);
        CHECK(std::holds_alternative<vrrp::Drop>(vrrp::ahOpen(bad, key)));
    }
    auto mutableFields = pkt;
    mutableFields[1] = 0x00;    // TOS
    mutableFields[6] = 0x40;    // DF
    mutableFields[10] ^= 0xff;  // header checksum
    CHECK(std::holds_alternative<vrrp::AhOpened>(vrrp::ahOpen(mutableFields, key)));
    // the TTL is covered on multicast (keepalived zeroes it for unicast only)
    auto ttl = pkt;
    ttl[8] = 254;
    CHECK(std::holds_alternative<vrrp::Drop>(vrrp::ahOpen(ttl, key)));
    auto uniTtl = hex(kUnicast[0]);
    uniTtl[8] = 64;
    CHECK(std::holds_alternative<vrrp::AhOpened>(vrrp::ahOpen(uniTtl, key)));
    // an SPI that is not the sender: sealed by someone else with our key
    auto spi = vrrp::ahSeal(vrrpMessage(), d1, group, key, {});
    spi[12 + 3] = 99;  // the IP source changes, the SPI stays 10.99.0.11
    CHECK(std::get<vrrp::Drop>(vrrp::ahOpen(spi, key)) == vrrp::Drop::AuthMismatch);
}

TEST_CASE("vrrp ah: random and truncated packets are dropped, never crash") {
    const auto key = vrrp::ahKey("s3cretPW");
    const auto good = hex(kMulticast[1]);
    std::mt19937 rng(7);
    int forged = 0;
    for (int i = 0; i < 100000; ++i) {
        std::vector<std::uint8_t> b;
        if (i % 2) {
            b.resize(rng() % 100);
            for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        } else {
            b = good;
            b.resize(rng() % (good.size() + 1));
            size_t at = b.empty() ? 0 : rng() % b.size();
            if (at == 1 || at == 6 || at == 7 || at == 10 || at == 11) at = 0;  // not the mutable fields
            if (!b.empty()) b[at] = static_cast<std::uint8_t>(rng());
        }
        auto r = vrrp::ahOpen(b, key);
        if (auto* o = std::get_if<vrrp::AhOpened>(&r)) {
            (void)vrrp::decode(o->vrrp, d1, group);
            if (b != good) ++forged;
        }
    }
    CHECK(forged == 0);  // nothing but the original passes the ICV
}
