#include "vrrp/Accept.h"

#include <algorithm>
#include <cstring>

#include "vrrp/Ah.h"

namespace vrrp {

bool usesAh(const conf::VrrpInstance& cfg) {
    return cfg.version == 2 && cfg.authType == conf::AuthType::Ah && cfg.family == base::Family::V4;
}

std::variant<Accepted, Drop, Ignored> judge(const AcceptContext& ctx, const Received& pkt) {
    const conf::VrrpInstance& cfg = ctx.cfg;
    if (pkt.src == ctx.self) return Ignored{};  // our own (multicast loop is off; unicast echo)
    if (pkt.truncated) return Drop::TooLong;
    // RFC 5798 7.1: TTL / hop limit 255, whatever the destination, so that nothing off the link is
    // heard (an advert sent to our own unicast address is still a raw socket's). With unicast peers
    // the source must be one of them (below, after the structure), and the TTL is unicast_ttl when
    // set: keepalived sends unicast IPv6 adverts with the system's default hop limit otherwise.
    if (cfg.unicastPeers.empty() ? pkt.ttl != 255 : cfg.unicastTtl && pkt.ttl != *cfg.unicastTtl) return Drop::BadTtl;
    std::span<const std::uint8_t> bytes = pkt.payload;
    Accepted out;
    if (usesAh(cfg)) {
        auto opened = ahOpen(pkt.datagram, ctx.ahKey);
        if (std::holds_alternative<Drop>(opened)) return std::get<Drop>(opened);
        bytes = std::get<AhOpened>(opened).vrrp;
        out.ahSequence = std::get<AhOpened>(opened).sequence;
    }
    // auth_hmac: a trailer is there when the packet is exactly 28 bytes longer than its header says
    // (anything else longer is a bad length, as keepalived's "too long")
    const bool hmacOn = cfg.authHmac.enabled && ctx.hmacKeys && ctx.hmacReplay;
    const size_t msgLen = expectedLength(bytes, !pkt.src.isV4());
    const size_t trailer = hmacOn && msgLen && bytes.size() == msgLen + hmac::kTrailerLen ? hmac::kTrailerLen : 0;
    auto r = decode(bytes, pkt.src, pkt.dst, trailer);
    if (std::holds_alternative<Drop>(r)) return std::get<Drop>(r);
    out.advert = std::get<Decoded>(r).advert;
    const Advert& a = out.advert;
    if (a.vrid != cfg.vrid) {
        if (ctx.siblings && ctx.siblings->contains(a.vrid)) return Ignored{};
        return Drop::WrongVrid;
    }
    if (a.version != cfg.version) return Drop::BadVersion;
    if (hmacOn) {
        if (!trailer) {
            if (cfg.authHmac.mode == conf::HmacMode::Enforce) return Drop::AuthExtMissing;
        } else {
            const auto c = hmac::check(bytes.first(msgLen), bytes.subspan(msgLen), pkt.src, a.version, a.vrid,
                                       *ctx.hmacKeys, cfg.authHmac.antiReplayTime, ctx.hmacWindow, ctx.nowSeconds,
                                       *ctx.hmacReplay);
            switch (c.verdict) {
            case hmac::Verdict::Ok: break;
            case hmac::Verdict::Malformed: return Drop::AuthExtMalformed;
            case hmac::Verdict::Stale: return Drop::AuthExtStale;
            case hmac::Verdict::UnknownKey: return Drop::AuthExtUnknownKey;
            case hmac::Verdict::BadHmac: return Drop::AuthExtBadHmac;
            case hmac::Verdict::Replay: return Drop::AuthExtReplay;
            }
            out.hmacSequence = c.sequence;
            out.hmacSkew = c.skew;
        }
    }
    if (a.interval <= Micros::zero()) return Drop::BadInterval;
    if (a.version == 2) {
        const auto want = usesAh(cfg) ? AuthType::Ah : cfg.authType == AuthType::Pass ? AuthType::Pass : AuthType::None;
        if (a.auth != want) return static_cast<std::uint8_t>(a.auth) > 2 ? Drop::UnknownAuthType : Drop::AuthType;
        // one counter for what we saw and sent: a restarted peer is heard again once it numbers above it
        if (out.ahSequence && *out.ahSequence <= ctx.ahSequence) return Drop::Replay;
        if (want == AuthType::Pass) {
            std::array<std::uint8_t, 8> pw{};
            std::memcpy(pw.data(), cfg.authPassword.data(), std::min<size_t>(8, cfg.authPassword.size()));
            if (pw != a.authData) return Drop::AuthMismatch;
        }
        if (a.interval != std::chrono::duration_cast<Micros>(cfg.advertInterval)) return Drop::IntervalMismatch;
    }
    if (!cfg.unicastPeers.empty() &&
        std::find(cfg.unicastPeers.begin(), cfg.unicastPeers.end(), pkt.src) == cfg.unicastPeers.end())
        return Drop::AddressMismatch;
    return out;
}

}  // namespace vrrp
