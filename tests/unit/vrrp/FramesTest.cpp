// VRRPv3 over IPv6 and the announcement frames against what keepalived 2.2.7 sent (captured on a
// bridge in network namespaces by tests/fixtures/vrrp/capture-keepalived.sh, and
// ../shared/captures for the gratuitous ARP): every byte, checksums included.
#include <catch2/catch.hpp>

#include "vrrp/Net.h"
#include "vrrp/Packet.h"

namespace {

std::vector<std::uint8_t> hex(const char* s) {
    std::vector<std::uint8_t> out;
    for (size_t i = 0; s[i] && s[i + 1]; i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(s + i, 2), nullptr, 16)));
    return out;
}

// keepalived: vrrp_instance VI_6, VRID 52, priority 150, advert_int 1, VIP fd00:99::10/64 on a veth
// whose MAC is 72:ef:04:3e:a5:1e and link-local address fe80::70ef:4ff:fe3e:a51e
const auto kLinkLocal = *base::IpAddress::parse("fe80::70ef:4ff:fe3e:a51e");
const auto kGroup6 = *base::IpAddress::parse("ff02::12");
const auto kVip6 = *base::IpAddress::parse("fd00:99::10");
const std::array<std::uint8_t, 6> kMac{0x72, 0xef, 0x04, 0x3e, 0xa5, 0x1e};
const char* kAdvert6 = "3134960100642352fd000099000000000000000000000010";  // after the IPv6 header (hop limit 255)
const char* kNa =
    "33330000000172ef043ea51e86dd"
    "6000000000203afffd000099000000000000000000000010ff020000000000000000000000000001"
    "88003f0020000000fd000099000000000000000000000010020172ef043ea51e";

}  // namespace

TEST_CASE("vrrp frames: keepalived's IPv6 advert decodes, and ours are the same bytes") {
    const auto bytes = hex(kAdvert6);
    auto r = vrrp::decode(bytes, kLinkLocal, kGroup6);
    REQUIRE(std::holds_alternative<vrrp::Decoded>(r));
    const auto& a = std::get<vrrp::Decoded>(r).advert;
    CHECK(a.version == 3);
    CHECK(a.vrid == 52);
    CHECK(a.priority == 150);
    CHECK(a.interval == std::chrono::seconds(1));
    REQUIRE(a.addresses.size() == 1);
    CHECK(a.addresses[0] == kVip6);
    CHECK(vrrp::encode(a, kLinkLocal, kGroup6) == bytes);
    // the checksum covers the IPv6 pseudo-header: another source fails
    CHECK(std::get<vrrp::Drop>(vrrp::decode(bytes, *base::IpAddress::parse("fe80::1"), kGroup6)) ==
          vrrp::Drop::BadChecksum);
}

TEST_CASE("vrrp frames: the unsolicited neighbour advertisement is keepalived's") {
    CHECK(vrrp::unsolicitedNaFrame(kMac, kVip6, false) == hex(kNa));
    // a forwarding interface sets the Router flag (and the checksum follows)
    auto routed = vrrp::unsolicitedNaFrame(kMac, kVip6, true);
    CHECK(routed[14 + 40 + 4] == 0xa0);
    const auto allNodes = *base::IpAddress::parse("ff02::1");
    CHECK(vrrp::inetChecksum({routed.data() + 54, 32}, vrrp::pseudoHeaderSum(kVip6, allNodes, 32, 58)) == 0);
}

TEST_CASE("vrrp frames: the gratuitous ARP is keepalived's") {
    // ../shared/captures/keepalived-2.2.7-vrrp-frames.txt, frame 8
    const std::array<std::uint8_t, 6> mac{0x02, 0x99, 0x00, 0x00, 0x00, 0x0b};
    CHECK(vrrp::gratuitousArpFrame(mac, *base::IpAddress::parse("10.99.0.10")) == hex("ffffffffffff0299"
                                                                                      "0000000b08060001"
                                                                                      "0800060400010299"
                                                                                      "0000000b0a63000a"
                                                                                      "ffffffffffff0a63"
                                                                                      "000a"));
}

TEST_CASE("vrrp frames: the claim watch reads a neighbour advertisement's target and MAC, and rejects bad ones") {
    const std::array<std::uint8_t, 6> mac{0x02, 0x99, 0x00, 0x00, 0x00, 0x0b}, from{0x02, 0, 0, 0, 0, 0x77};
    const auto frame = vrrp::unsolicitedNaFrame(mac, kVip6, false);
    const std::vector<std::uint8_t> ip6(frame.begin() + 14, frame.end());
    auto c = vrrp::naClaim(ip6, from);
    REQUIRE(c);
    CHECK(c->target == kVip6);
    CHECK(c->mac == mac);  // the target link-layer address option, not the frame's source
    // one byte changed, the checksum made right again unless `keepSum`
    auto changed = [&](size_t at, std::uint8_t value, bool keepSum = false) {
        auto b = ip6;
        b[at] = value;
        if (!keepSum) {
            b[42] = b[43] = 0;
            const auto sum =
                vrrp::inetChecksum({b.data() + 40, b.size() - 40},
                                   vrrp::pseudoHeaderSum(kVip6, *base::IpAddress::parse("ff02::1"), b.size() - 40, 58));
            b[42] = static_cast<std::uint8_t>(sum >> 8);
            b[43] = static_cast<std::uint8_t>(sum);
        }
        return vrrp::naClaim(b, from);
    };
    auto other = changed(60, 0x20);  // another target, checksum right: a claim of that one
    REQUIRE(other);
    CHECK(other->target != kVip6);
    CHECK_FALSE(changed(60, 0x20, true));                            // ... with the old checksum: none
    CHECK_FALSE(changed(7, 64));                                     // hop limit not 255: not from the link
    CHECK_FALSE(changed(40, 135));                                   // a solicitation
    CHECK_FALSE(changed(41, 1));                                     // code
    CHECK_FALSE(changed(65, 0));                                     // an option of length 0
    CHECK_FALSE(vrrp::naClaim({ip6.data(), 63}, from));              // short
    CHECK_FALSE(vrrp::naClaim({ip6.data(), ip6.size() - 1}, from));  // shorter than its payload length
}

TEST_CASE("vrrp frames: the claim watch reads an ARP's sender, and nothing from what is not ARP over Ethernet/IPv4") {
    const std::array<std::uint8_t, 6> mac{0x02, 0x99, 0x00, 0x00, 0x00, 0x0b};
    const auto frame = vrrp::gratuitousArpFrame(mac, *base::IpAddress::parse("10.99.0.10"));
    std::vector<std::uint8_t> arp(frame.begin() + 14, frame.end());  // a DGRAM packet socket gives no Ethernet header
    auto s = vrrp::arpSender(arp);
    REQUIRE(s);
    CHECK(s->mac == mac);
    CHECK(s->address == *base::IpAddress::parse("10.99.0.10"));
    auto reply = arp;
    reply[7] = 2;  // a reply claims as well
    CHECK(vrrp::arpSender(reply));
    CHECK_FALSE(vrrp::arpSender({arp.data(), 27}));  // short
    for (size_t at : {1, 3, 4, 5, 7}) {              // hardware, protocol, their lengths, operation
        auto bad = arp;
        bad[at] ^= 0x10;
        CHECK_FALSE(vrrp::arpSender(bad));
    }
}
