// The acceptance decision (vrrp::judge) as properties over random packets and configurations:
// nothing that arrived with a TTL / hop limit other than 255 is taken without unicast peers,
// whatever its destination (RFC 5798 7.1: an off-link host must not be heard); with unicast peers
// only a configured peer is heard, with unicast_ttl when set. And the decision is not a wall that
// drops everything: a well-formed advert that meets those rules is accepted.
#include <catch2/catch.hpp>

#include <random>

#include "vrrp/Accept.h"

using namespace std::chrono_literals;

namespace {

base::IpAddress ip(const char* s) { return *base::IpAddress::parse(s); }

struct Case {
    conf::VrrpInstance cfg;
    base::IpAddress src, dst, self;
    int ttl = 255;
    vrrp::Advert advert;
    std::vector<std::uint8_t> bytes;
};

// A random configuration and a packet that is, most of the time, a well-formed advert for it.
Case randomCase(std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Case c;
    const bool v6 = pick(2) == 1;
    c.cfg.family = v6 ? base::Family::V6 : base::Family::V4;
    c.cfg.version = v6 ? 3 : 2 + pick(2);
    c.cfg.vrid = static_cast<std::uint8_t>(1 + pick(3));
    c.cfg.advertInterval = c.cfg.version == 2 ? std::chrono::seconds(1) : std::chrono::milliseconds(100);
    const char* hosts4[] = {"10.99.0.11", "10.99.0.12", "10.99.0.13", "192.0.2.66"};
    const char* hosts6[] = {"fe80::11", "fe80::12", "fe80::13", "2001:db8::66"};
    auto host = [&](int i) { return ip(v6 ? hosts6[i] : hosts4[i]); };
    c.self = host(0);
    if (pick(2)) {  // unicast peers: one or two of the others
        c.cfg.unicastPeers.push_back(host(1));
        if (pick(2)) c.cfg.unicastPeers.push_back(host(2));
        if (pick(2)) c.cfg.unicastTtl = pick(2) ? 255 : 1 + pick(255);
    }
    c.src = host(1 + pick(3));
    // destination: the group, our own address (the off-link attack), or another unicast one
    const int d = pick(3);
    c.dst = d == 0 ? ip(v6 ? "ff02::12" : "224.0.0.18") : d == 1 ? c.self : host(2);
    const int t = pick(4);
    c.ttl = t == 0 ? 255 : t == 1 ? 254 : t == 2 ? 1 : pick(256);
    if (c.cfg.unicastTtl && pick(3) == 0) c.ttl = *c.cfg.unicastTtl;
    c.advert.version = pick(10) ? c.cfg.version : 5 - c.cfg.version;
    c.advert.vrid = pick(10) ? c.cfg.vrid : static_cast<std::uint8_t>(c.cfg.vrid + 1);
    c.advert.priority = static_cast<std::uint8_t>(pick(256));
    c.advert.interval = c.advert.version == 2 ? vrrp::Micros(1s) : vrrp::Micros(100ms);
    c.advert.addresses = {ip(v6 ? "fd00:99::10" : "10.99.0.10")};
    c.bytes = vrrp::encode(c.advert, c.src, c.dst);
    if (pick(20) == 0 && !c.bytes.empty()) c.bytes[rng() % c.bytes.size()] ^= static_cast<std::uint8_t>(1 + pick(255));
    return c;
}

std::variant<vrrp::Accepted, vrrp::Drop, vrrp::Ignored> judgeCase(const Case& c) {
    static const std::array<std::uint8_t, 8> key{};
    vrrp::AcceptContext ctx{c.cfg, c.self, key, 0};
    vrrp::Received r{c.src, c.dst, c.ttl, c.bytes, {}, false};
    return vrrp::judge(ctx, r);
}

bool isPeer(const Case& c) {
    return std::find(c.cfg.unicastPeers.begin(), c.cfg.unicastPeers.end(), c.src) != c.cfg.unicastPeers.end();
}

}  // namespace

TEST_CASE("an advert is accepted only as RFC 5798 7.1 and the unicast settings allow, over random packets") {
    std::mt19937 rng(20261206);
    int accepted = 0, ttlDrops = 0, peerDrops = 0;
    for (int i = 0; i < 200000; ++i) {
        const Case c = randomCase(rng);
        const auto verdict = judgeCase(c);
        if (std::holds_alternative<vrrp::Drop>(verdict)) {
            const auto d = std::get<vrrp::Drop>(verdict);
            ttlDrops += d == vrrp::Drop::BadTtl;
            peerDrops += d == vrrp::Drop::AddressMismatch;
            continue;
        }
        if (!std::holds_alternative<vrrp::Accepted>(verdict)) continue;
        ++accepted;
        INFO("case " << i << " ttl " << c.ttl << " dst " << c.dst.str() << " src " << c.src.str());
        if (c.cfg.unicastPeers.empty()) {
            REQUIRE(c.ttl == 255);  // multicast mode: on the link only, whatever the destination
        } else {
            REQUIRE(isPeer(c));
            if (c.cfg.unicastTtl) REQUIRE(c.ttl == *c.cfg.unicastTtl);
        }
        REQUIRE(std::get<vrrp::Accepted>(verdict).advert.vrid == c.cfg.vrid);
        REQUIRE(std::get<vrrp::Accepted>(verdict).advert.version == c.cfg.version);
    }
    // the properties hold over a sample that exercises every branch
    CHECK(accepted > 10000);
    CHECK(ttlDrops > 10000);
    CHECK(peerDrops > 1000);
}

TEST_CASE("a well-formed advert that meets the rules is accepted; only its TTL or source turns it away") {
    std::mt19937 rng(7);
    int checked = 0;
    for (int i = 0; i < 50000; ++i) {
        Case c = randomCase(rng);
        c.advert.version = c.cfg.version;
        c.advert.vrid = c.cfg.vrid;
        c.bytes = vrrp::encode(c.advert, c.src, c.dst);
        const bool unicast = !c.cfg.unicastPeers.empty();
        const bool ttlOk = unicast ? !c.cfg.unicastTtl || c.ttl == *c.cfg.unicastTtl : c.ttl == 255;
        const bool srcOk = !unicast || isPeer(c);
        const auto verdict = judgeCase(c);
        INFO("case " << i << " ttl " << c.ttl << " dst " << c.dst.str() << " src " << c.src.str());
        if (ttlOk && srcOk) {
            REQUIRE(std::holds_alternative<vrrp::Accepted>(verdict));
        } else {
            REQUIRE(std::holds_alternative<vrrp::Drop>(verdict));
            const auto d = std::get<vrrp::Drop>(verdict);
            REQUIRE((d == vrrp::Drop::BadTtl || d == vrrp::Drop::AddressMismatch));
        }
        ++checked;
    }
    CHECK(checked == 50000);
}

TEST_CASE("the off-link attack: priority 255 to the master's own address with TTL below 255 is dropped") {
    for (const bool v6 : {false, true}) {
        conf::VrrpInstance cfg;
        cfg.family = v6 ? base::Family::V6 : base::Family::V4;
        cfg.version = 3;
        cfg.vrid = 51;
        cfg.advertInterval = 100ms;
        const auto self = ip(v6 ? "fd00:99::11" : "10.99.0.11");
        const auto attacker = ip(v6 ? "fd00:98::66" : "10.98.0.66");
        vrrp::Advert a;
        a.version = 3;
        a.vrid = 51;
        a.priority = 255;
        a.interval = 10s;
        a.addresses = {ip(v6 ? "fd00:99::10" : "10.99.0.10")};
        const auto bytes = vrrp::encode(a, attacker, self);
        static const std::array<std::uint8_t, 8> key{};
        vrrp::AcceptContext ctx{cfg, self, key, 0};
        for (int ttl : {1, 254, 64}) {
            const auto v = vrrp::judge(ctx, vrrp::Received{attacker, self, ttl, bytes, {}, false});
            REQUIRE(std::holds_alternative<vrrp::Drop>(v));
            CHECK(std::get<vrrp::Drop>(v) == vrrp::Drop::BadTtl);
        }
        // the same packet with TTL 255 (sent on the link) is an advert
        CHECK(std::holds_alternative<vrrp::Accepted>(vrrp::judge(ctx, vrrp::Received{attacker, self, 255, bytes, {}, false})));
    }
}

TEST_CASE("a sibling instance's VRID on the link is ignored, not counted; an unknown one is a wrong VRID") {
    conf::VrrpInstance cfg;
    cfg.version = 3;
    cfg.vrid = 51;
    cfg.advertInterval = 100ms;
    vrrp::Advert ad;
    ad.version = 3;
    ad.priority = 100;
    ad.interval = vrrp::Micros(100ms);
    ad.addresses = {ip("10.99.0.10")};
    const auto src = ip("10.99.0.12"), dst = ip("224.0.0.18");
    static const std::array<std::uint8_t, 8> key{};
    const std::set<int> siblings{52};
    auto verdict = [&](int vrid) {
        ad.vrid = static_cast<std::uint8_t>(vrid);
        const auto bytes = vrrp::encode(ad, src, dst);
        vrrp::AcceptContext ctx{cfg, ip("10.99.0.11"), key, 0, &siblings};
        return vrrp::judge(ctx, vrrp::Received{src, dst, 255, bytes, {}, false});
    };
    CHECK(std::holds_alternative<vrrp::Accepted>(verdict(51)));
    CHECK(std::holds_alternative<vrrp::Ignored>(verdict(52)));  // this router's other instance
    const auto unknown = verdict(53);
    REQUIRE(std::holds_alternative<vrrp::Drop>(unknown));
    CHECK(std::get<vrrp::Drop>(unknown) == vrrp::Drop::WrongVrid);
}
