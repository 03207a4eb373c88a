// auth_hmac (vrrp/AuthHmac.h) against keepalived 2.4.3's own test vectors (test/auth_hmac_test.c:
// the draft appendix's wire images, key 00..1f, VRID 51, priority 200, sequence
// 0x6800000080000000) and its mutation table, then the sender's sequence, the replay state, and
// the acceptance decision with a trailer, without one, and for an instance that has none.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "vrrp/Accept.h"
#include "vrrp/AuthHmac.h"

namespace {

base::IpAddress ip(const char* s) { return *base::IpAddress::parse(s); }

std::vector<std::uint8_t> hex(const std::string& h) {
    std::vector<std::uint8_t> out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

vrrp::hmac::Key key1() {
    vrrp::hmac::Key k{1, {}};
    for (int i = 0; i < 32; ++i) k.bytes.push_back(static_cast<std::uint8_t>(i));
    return k;
}

constexpr std::uint64_t kSeq = 0x6800000080000000ULL;
const std::string kV4 = "3133c80100644402c0000264"
                        "010100006800000080000000"
                        "1b84bc4e8e43892dc6d98448f8ee2265";
const std::string kV6 = "3133c8010064a2e9"
                        "fe800000000000000000000000000100"
                        "010100006800000080000000"
                        "c8c56146ebfd66ee10ec4d8186461b78";

vrrp::hmac::Verdict verify(const std::vector<std::uint8_t>& img, size_t msgLen, const char* src, std::uint8_t vrid = 51,
                           const vrrp::hmac::ReplayState& st = vrrp::hmac::ReplayState{}) {
    const std::span<const std::uint8_t> all(img);
    return vrrp::hmac::check(all.first(msgLen), all.subspan(msgLen), ip(src), 3, vrid, {key1()}, false, 0, 0, st)
        .verdict;
}

}  // namespace

TEST_CASE("auth_hmac: keepalived's wire images, signed and verified") {
    using vrrp::hmac::Verdict;
    const auto v4 = hex(kV4), v6 = hex(kV6);
    REQUIRE(v4.size() == 12 + 28);
    REQUIRE(v6.size() == 24 + 28);
    // our seal of the same message, key and sequence is their trailer, byte for byte
    const auto t4 = vrrp::hmac::seal(std::span(v4).first(12), ip("198.51.100.10"), 3, 51, key1(), kSeq);
    CHECK(std::vector<std::uint8_t>(t4.begin(), t4.end()) == std::vector<std::uint8_t>(v4.begin() + 12, v4.end()));
    const auto t6 = vrrp::hmac::seal(std::span(v6).first(24), ip("fe80::10"), 3, 51, key1(), kSeq);
    CHECK(std::vector<std::uint8_t>(t6.begin(), t6.end()) == std::vector<std::uint8_t>(v6.begin() + 24, v6.end()));
    CHECK(verify(v4, 12, "198.51.100.10") == Verdict::Ok);
    CHECK(verify(v6, 24, "fe80::10") == Verdict::Ok);
    // the IPv6 checksum (a transport checksum to fe80::20) covers the trailer: the codec agrees
    auto d = vrrp::decode(v6, ip("fe80::10"), ip("fe80::20"), vrrp::hmac::kTrailerLen);
    REQUIRE(std::holds_alternative<vrrp::Decoded>(d));
    CHECK(std::get<vrrp::Decoded>(d).advert.priority == 200);
    CHECK(vrrp::expectedLength(v6, true) == 24);

    // keepalived's mutation table: one flipped bit each, against the IPv6 image
    struct Mutation {
        const char* what;
        size_t off;
        Verdict want;
    };
    for (const Mutation& m : {Mutation{"priority", 2, Verdict::BadHmac}, Mutation{"advert interval", 5, Verdict::BadHmac},
                              Mutation{"checksum", 6, Verdict::Ok}, Mutation{"vip", 8 + 15, Verdict::BadHmac},
                              Mutation{"ext type", 24, Verdict::Malformed}, Mutation{"key id", 25, Verdict::UnknownKey},
                              Mutation{"reserved", 26, Verdict::Malformed}, Mutation{"seconds", 28, Verdict::BadHmac},
                              Mutation{"counter", 34, Verdict::BadHmac}, Mutation{"hmac", 36, Verdict::BadHmac}}) {
        INFO(m.what);
        auto b = v6;
        b[m.off] ^= 0x01;
        CHECK(verify(b, 24, "fe80::10") == m.want);
    }
    // the pseudo-header binds the source address and the VRID
    CHECK(verify(v6, 24, "fe80::20") == Verdict::BadHmac);
    CHECK(verify(v6, 24, "fe80::10", 52) == Verdict::BadHmac);
}

TEST_CASE("auth_hmac: the clock window, replays, and the sender's sequence") {
    using vrrp::hmac::Verdict;
    const auto v6 = hex(kV6);
    const std::span<const std::uint8_t> all(v6);
    const std::int64_t sent = 0x68000000;  // the image's seconds
    auto timed = [&](std::int64_t now, std::uint32_t window) {
        return vrrp::hmac::check(all.first(24), all.subspan(24), ip("fe80::10"), 3, 51, {key1()}, true, window, now,
                                 vrrp::hmac::ReplayState{})
            .verdict;
    };
    CHECK(timed(sent + 30, 30) == Verdict::Ok);
    CHECK(timed(sent - 30, 30) == Verdict::Ok);
    CHECK(timed(sent + 31, 30) == Verdict::Stale);
    CHECK(timed(sent - 31, 30) == Verdict::Stale);

    vrrp::hmac::ReplayState st;
    st.accept(ip("fe80::10"), kSeq, 1);
    CHECK(verify(v6, 24, "fe80::10", 51, st) == Verdict::Replay);    // the same advert again
    CHECK(verify(v6, 24, "fe80::11", 51, st) == Verdict::BadHmac);   // (another source: its own MAC)
    vrrp::hmac::ReplayState older;
    older.accept(ip("fe80::10"), kSeq - 1, 1);
    CHECK(verify(v6, 24, "fe80::10", 51, older) == Verdict::Ok);
    // four sources kept: the least recently heard goes, and a source not kept accepts any sequence
    vrrp::hmac::ReplayState lru;
    for (int i = 0; i < 5; ++i) lru.accept(ip(("fe80::" + std::to_string(10 + i)).c_str()), kSeq, static_cast<std::uint64_t>(i));
    CHECK_FALSE(lru.last(ip("fe80::10")));
    CHECK(lru.last(ip("fe80::14")) == kSeq);
    // time mode: a last sequence older than the window is forgotten
    vrrp::hmac::ReplayState aged;
    aged.accept(ip("fe80::10"), kSeq, 1);
    aged.forgetOlderThan(sent + 10, 30);
    CHECK(aged.last(ip("fe80::10")));
    aged.forgetOlderThan(sent + 31, 30);
    CHECK_FALSE(aged.last(ip("fe80::10")));

    // the sender: the clock's value, one above the last while the clock stands still
    vrrp::hmac::Sequence seq;
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1796600000)) + std::chrono::milliseconds(500);
    const std::uint64_t a = seq.next(t, true, 30);
    CHECK(a >> 32 == 1796600000);
    CHECK(((a >> 16) & 0xffff) == 0x8000);  // half a second in 1/65536ths
    CHECK((a & 0xffff) == 0);
    CHECK(seq.next(t, true, 30) == a + 1);
    CHECK(seq.next(t + std::chrono::seconds(1), true, 30) == vrrp::hmac::clockSequence(t + std::chrono::seconds(1)));
    // the clock stepped back past the window: time mode starts again from it, monotonic does not
    vrrp::hmac::Sequence mono = seq;
    const auto back = t - std::chrono::seconds(100);
    CHECK(seq.next(back, true, 30) == vrrp::hmac::clockSequence(back));
    CHECK(mono.next(back, false, 30) > a);
}

TEST_CASE("auth_hmac: the acceptance decision with and without a trailer") {
    conf::VrrpInstance cfg;
    cfg.version = 3;
    cfg.vrid = 51;
    cfg.advertInterval = std::chrono::milliseconds(100);
    cfg.authHmac.enabled = true;
    cfg.authHmac.activeKey = 1;
    cfg.authHmac.antiReplayTime = false;
    const std::vector<vrrp::hmac::Key> keys{key1()};
    vrrp::hmac::ReplayState replay;
    const std::array<std::uint8_t, 8> noAh{};
    const auto self = ip("10.99.0.1"), peer = ip("10.99.0.2"), group = ip("224.0.0.18");
    vrrp::Advert ad;
    ad.version = 3;
    ad.vrid = 51;
    ad.priority = 150;
    ad.interval = vrrp::Micros(100000);
    ad.addresses = {ip("10.99.0.10")};
    const auto msg = vrrp::encode(ad, peer, group);
    auto signedMsg = msg;
    const auto t = vrrp::hmac::seal(msg, peer, 3, 51, keys[0], 42);
    signedMsg.insert(signedMsg.end(), t.begin(), t.end());
    auto judge = [&](const conf::VrrpInstance& c, const std::vector<std::uint8_t>& bytes) {
        vrrp::AcceptContext ctx{c, self, noAh, 0, nullptr};
        ctx.hmacKeys = &keys;
        ctx.hmacReplay = &replay;
        vrrp::Received pkt{peer, group, 255, bytes, bytes};
        return vrrp::judge(ctx, pkt);
    };
    auto r = judge(cfg, signedMsg);
    REQUIRE(std::holds_alternative<vrrp::Accepted>(r));
    CHECK(std::get<vrrp::Accepted>(r).hmacSequence == 42u);
    CHECK(std::get<vrrp::Accepted>(r).advert.priority == 150);
    replay.accept(peer, 42, 1);
    CHECK(std::get<vrrp::Drop>(judge(cfg, signedMsg)) == vrrp::Drop::AuthExtReplay);
    CHECK(std::get<vrrp::Drop>(judge(cfg, msg)) == vrrp::Drop::AuthExtMissing);
    auto forged = signedMsg;
    forged[2] = 255;  // a higher priority, the MAC kept: the checksum is wrong too, so fix it
    forged[6] = forged[7] = 0;
    const auto ck = vrrp::inetChecksum(std::span(forged).first(msg.size()),
                                       vrrp::pseudoHeaderSum(peer, group, msg.size(), vrrp::kProtocol));
    forged[6] = static_cast<std::uint8_t>(ck >> 8);
    forged[7] = static_cast<std::uint8_t>(ck & 0xff);
    CHECK(std::get<vrrp::Drop>(judge(cfg, forged)) == vrrp::Drop::AuthExtBadHmac);
    auto permissive = cfg;
    permissive.authHmac.mode = conf::HmacMode::Permissive;
    CHECK(std::holds_alternative<vrrp::Accepted>(judge(permissive, msg)));
    CHECK(std::get<vrrp::Drop>(judge(permissive, forged)) == vrrp::Drop::AuthExtBadHmac);  // bad is bad in any mode
    // an instance without auth_hmac: 28 bytes more than the header says is a bad length (keepalived: too long)
    conf::VrrpInstance plain = cfg;
    plain.authHmac = conf::AuthHmac{};
    CHECK(std::get<vrrp::Drop>(judge(plain, signedMsg)) == vrrp::Drop::BadLength);
    CHECK(std::holds_alternative<vrrp::Accepted>(judge(plain, msg)));
}

TEST_CASE("auth_hmac: keepalived 2.4.3's own adverts, recorded on the wire, verify and decode here") {
    std::ifstream in(std::string(DIRECTORD_SOURCE_DIR) + "/tests/fixtures/keepalived-2.4.3-auth-hmac.txt");
    REQUIRE(in);
    vrrp::hmac::Key key{1, {}};
    const std::string text = "directord-lab-hmac-key-012345678";
    key.bytes.assign(text.begin(), text.end());
    int frames = 0;
    std::set<std::string> scenarios;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream f(line);
        std::string scenario, version, src, dst, payload;
        f >> scenario >> version >> src >> dst >> payload;
        INFO(line);
        const auto bytes = hex(payload);
        const bool v6 = src.find(':') != std::string::npos;
        const size_t msgLen = vrrp::expectedLength(bytes, v6);
        REQUIRE(bytes.size() == msgLen + vrrp::hmac::kTrailerLen);
        const int ver = version == "v2" ? 2 : 3;
        const std::span<const std::uint8_t> all(bytes);
        vrrp::hmac::ReplayState st;
        const auto c = vrrp::hmac::check(all.first(msgLen), all.subspan(msgLen), ip(src.c_str()), ver, 51, {key}, false,
                                         0, 0, st);
        CHECK(c.verdict == vrrp::hmac::Verdict::Ok);
        // our seal of keepalived's message with its sequence is its trailer
        const auto t = vrrp::hmac::seal(all.first(msgLen), ip(src.c_str()), ver, 51, key, c.sequence);
        CHECK(std::vector<std::uint8_t>(t.begin(), t.end()) == std::vector<std::uint8_t>(bytes.begin() + static_cast<long>(msgLen), bytes.end()));
        auto d = vrrp::decode(bytes, ip(src.c_str()), ip(dst.c_str()), vrrp::hmac::kTrailerLen);
        REQUIRE(std::holds_alternative<vrrp::Decoded>(d));
        CHECK(std::get<vrrp::Decoded>(d).advert.priority == 200);
        CHECK(std::get<vrrp::Decoded>(d).advert.version == ver);
        auto tampered = bytes;
        tampered[2] ^= 1;
        CHECK(vrrp::hmac::check(std::span<const std::uint8_t>(tampered).first(msgLen),
                                std::span<const std::uint8_t>(tampered).subspan(msgLen), ip(src.c_str()), ver, 51, {key},
                                false, 0, 0, st)
                  .verdict == vrrp::hmac::Verdict::BadHmac);
        ++frames;
        scenarios.insert(scenario);
    }
    CHECK(frames == 16);
    CHECK(scenarios == std::set<std::string>{"v2_ipv4_multicast", "v3_ipv4_multicast", "v3_ipv4_unicast", "v3_ipv6_multicast"});
}
