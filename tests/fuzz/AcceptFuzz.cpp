// libFuzzer: the VRRP acceptance decision (vrrp::judge) over any packet and any of a range of
// configurations, as properties: without unicast peers nothing with a TTL other than 255 is taken,
// whatever its destination; with peers only a peer, and only with unicast_ttl when set; what is
// taken has the instance's VRID and version; with auth_hmac in enforce mode, nothing is taken without
// a trailer that verified (the parser of the trailer and its length rules run on every input). Any
// violation aborts.
#include <cstdint>
#include <cstdlib>

#include "vrrp/Accept.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    if (size < 4) return 0;
    const std::uint8_t shape = data[0], ttl = data[1], ttlCfg = data[2], who = data[3];
    const bool v6 = shape & 1;
    auto ip = [&](const char* a, const char* b) { return *base::IpAddress::parse(v6 ? b : a); };
    conf::VrrpInstance cfg;
    cfg.family = v6 ? base::Family::V6 : base::Family::V4;
    cfg.version = v6 ? 3 : (shape & 2) ? 3 : 2;
    cfg.vrid = static_cast<std::uint8_t>(1 + (shape >> 6));
    cfg.advertInterval = cfg.version == 2 ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
    if (shape & 4) cfg.authType = conf::AuthType::Pass, cfg.authPassword = "secret";
    const auto self = ip("10.0.0.1", "fe80::1"), peer = ip("10.0.0.2", "fe80::2"), other = ip("10.9.0.9", "fd00::9");
    if (shape & 8) {
        cfg.unicastPeers.push_back(peer);
        if (shape & 16) cfg.unicastTtl = ttlCfg ? ttlCfg : 255;
    }
    const base::IpAddress src = (who & 1) ? peer : other;
    const base::IpAddress dst = (who & 2) ? self : ip("224.0.0.18", "ff02::12");
    static const std::array<std::uint8_t, 8> key{};
    vrrp::AcceptContext ctx{cfg, self, key, 0};
    static const std::vector<vrrp::hmac::Key> keys{{1, std::vector<std::uint8_t>(32, 0x5a)}};
    static const vrrp::hmac::ReplayState replay;
    if (shape & 32) {
        cfg.authType = conf::AuthType::None;
        cfg.authHmac.enabled = true;
        cfg.authHmac.activeKey = 1;
        cfg.authHmac.antiReplayTime = ttlCfg & 1;
        ctx.hmacKeys = &keys;
        ctx.hmacReplay = &replay;
        ctx.nowSeconds = 0x68000000;
        ctx.hmacWindow = 30;
    }
    const vrrp::Received pkt{src, dst, ttl, std::span<const std::uint8_t>(data + 4, size - 4), {}, false};
    const auto verdict = vrrp::judge(ctx, pkt);
    const auto* ok = std::get_if<vrrp::Accepted>(&verdict);
    if (!ok) return 0;
    if (cfg.unicastPeers.empty() && ttl != 255) std::abort();
    if (!cfg.unicastPeers.empty() && src != peer) std::abort();
    if (cfg.unicastTtl && ttl != *cfg.unicastTtl) std::abort();
    if (ok->advert.vrid != cfg.vrid || ok->advert.version != cfg.version) std::abort();
    if (cfg.authHmac.enabled && !ok->hmacSequence) std::abort();  // enforce: no trailer, not taken
    return 0;
}
