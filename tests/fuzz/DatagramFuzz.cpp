// libFuzzer: what the udp, dns, smtp, ping and bfd checks read from the network, and the hex strings of
// the udp check's settings. The first byte picks the query's name length; the rest is a reply to it, read as the
// dns check reads it and matched as the udp check matches, and parsed as a hex setting.
#include <cstdint>
#include <string>
#include <string_view>

#include "conf/Hex.h"
#include "healthcheck/Bfd.h"
#include "healthcheck/Dns.h"
#include "healthcheck/PingProbe.h"
#include "healthcheck/SmtpProbe.h"
#include "healthcheck/UdpProbe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::string name = std::string(1 + data[0] % 20, 'a') + ".test";
    const auto query = healthcheck::dns::buildQuery(static_cast<std::uint16_t>(size), name, 1);
    if (!query) __builtin_trap();  // a valid name always encodes
    const auto r = healthcheck::dns::readReply(in, *query);
    if (r.verdict == healthcheck::dns::Verdict::Rcode && (r.rcode < 1 || r.rcode > 15)) __builtin_trap();

    healthcheck::UdpExpect e;
    e.requireReply = true;
    e.reply = std::string(in.substr(0, in.size() / 2));
    e.mask = std::string(in.substr(in.size() / 2, in.size() / 4));
    e.minLength = data[0];
    e.maxLength = data[0] * 4u;
    (void)healthcheck::udpReplyMatches(e, in);

    for (bool wild : {false, true})
        if (auto h = conf::parseHex(in, wild)) {
            if (!h->mask.empty() && h->mask.size() != h->bytes.size()) __builtin_trap();
            const auto again = conf::parseHex(conf::hexText(h->bytes, h->mask), wild);
            if (!again || again->bytes != h->bytes || again->mask != h->mask) __builtin_trap();
        }
    (void)healthcheck::dns::typeCode(in);

    // an ICMP datagram as the ping check's raw sockets read it (IPv4 with its header, IPv6 without)
    for (bool v4 : {true, false}) {
        const auto r = healthcheck::readIcmp(in, v4, static_cast<std::uint16_t>(data[0] * 257));
        if (r.kind != healthcheck::IcmpReading::Other && in.size() < 8) __builtin_trap();
    }

    // an SMTP reply, fed in pieces the first byte sizes
    healthcheck::SmtpReplyReader smtp;
    const size_t step = 1 + data[0] % 32;
    auto st = healthcheck::SmtpReplyReader::State::NeedMore;
    for (size_t i = 0; i < in.size() && st == healthcheck::SmtpReplyReader::State::NeedMore; i += step)
        st = smtp.feed(in.substr(i, step));
    if (st == healthcheck::SmtpReplyReader::State::Done && (smtp.code() < 0 || smtp.code() > 999)) __builtin_trap();

    // a BFD control packet: what decodes encodes back to itself, and a session takes it (and the
    // packets after it, one per 24 bytes) without leaving RFC 5880's four states
    namespace bfd = healthcheck::bfd;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(in.data());
    bfd::Session session(bfd::Params{}, 0x01020304u);
    auto now = bfd::Clock::time_point{} + std::chrono::seconds(1);
    for (size_t off = 0; off < in.size(); off += bfd::kPacketSize) {
        bfd::Packet p;
        if (bfd::decode(std::span<const std::uint8_t>(bytes + off, in.size() - off), p) != bfd::Drop::None) continue;
        const auto wire = bfd::encode(p);
        bfd::Packet again;
        if (bfd::decode(wire, again) != bfd::Drop::None || !(again == p)) __builtin_trap();
        session.receive(p, now);
        const auto out = session.transmit(now, data[0] / 256.0);
        if (out.poll && out.final) __builtin_trap();
        if (static_cast<unsigned>(session.state()) > 3) __builtin_trap();
        now += std::chrono::milliseconds(data[0]);
        session.expire(now);
    }
    return 0;
}
