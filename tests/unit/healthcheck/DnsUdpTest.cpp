// The dns check's messages, the udp check's reply rule and the smtp check's reply reader, as pure
// functions.
#include <catch2/catch.hpp>

#include "healthcheck/Dns.h"
#include "healthcheck/PingProbe.h"
#include "healthcheck/SmtpProbe.h"
#include "healthcheck/UdpProbe.h"

namespace dns = healthcheck::dns;

namespace {

// An answer to `query`: its header with QR (and RA) set, `rcode`, the question echoed.
std::string answer(const std::string& query, int rcode, bool upperCase = false) {
    std::string a = query;
    a[2] = static_cast<char>(static_cast<unsigned char>(a[2]) | 0x80);
    a[3] = static_cast<char>(0x80 | rcode);
    if (upperCase)
        for (size_t i = 12; i < a.size(); ++i)
            if (a[i] >= 'a' && a[i] <= 'z') a[i] = static_cast<char>(a[i] - 32);
    return a;
}

}  // namespace

TEST_CASE("dns: the query is RFC 1035's, one question, recursion desired") {
    const auto q = dns::buildQuery(0x1234, "www.example.com", *dns::typeCode("aaaa"));
    REQUIRE(q);
    const std::string want("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                           "\x03www\x07"
                           "example\x03"
                           "com\x00\x00\x1c\x00\x01",
                           33);
    CHECK(*q == want);
    std::string id1 = *q;
    id1.replace(0, 2, std::string("\x00\x01", 2));
    CHECK(dns::buildQuery(1, "www.example.com.", 28) == id1);  // a trailing dot changes nothing
    // the root: one zero byte of name
    const auto root = dns::buildQuery(7, "", 6);
    REQUIRE(root);
    CHECK(root->size() == 12 + 1 + 4);
    CHECK(dns::buildQuery(7, ".", 6) == root);
    CHECK_FALSE(dns::buildQuery(1, "a..b", 1));
    CHECK_FALSE(dns::buildQuery(1, ".a", 1));
    CHECK_FALSE(dns::buildQuery(1, std::string(64, 'a'), 1));
    CHECK_FALSE(dns::typeCode("PTR"));
    CHECK(dns::typeCode("soa") == 6);
}

TEST_CASE("dns: a reply is ours only with our id, QR, opcode QUERY and our question") {
    const std::string q = *dns::buildQuery(0xbeef, "example.test", 1);
    CHECK(dns::readReply(answer(q, 0), q).verdict == dns::Verdict::Ok);
    CHECK(dns::readReply(answer(q, 0, true), q).verdict == dns::Verdict::Ok);  // names compare without case
    const auto nx = dns::readReply(answer(q, 3), q);
    CHECK(nx.verdict == dns::Verdict::Rcode);
    CHECK(nx.rcode == 3);

    std::string wrongId = answer(q, 0);
    wrongId[1] = 0;
    CHECK(std::string(dns::readReply(wrongId, q).why) == "id");
    CHECK(std::string(dns::readReply(q, q).why) == "not a response");  // our own query reflected
    std::string opcode = answer(q, 0);
    opcode[2] = static_cast<char>(opcode[2] | 0x10);
    CHECK(std::string(dns::readReply(opcode, q).why) == "opcode");
    std::string other = answer(*dns::buildQuery(0xbeef, "example.tesu", 1), 0);
    CHECK(std::string(dns::readReply(other, q).why) == "question");
    std::string otherType = answer(*dns::buildQuery(0xbeef, "example.test", 28), 0);
    CHECK(std::string(dns::readReply(otherType, q).why) == "question");
    CHECK(std::string(dns::readReply(answer(q, 0).substr(0, 20), q).why) == "question");  // truncated
    CHECK(std::string(dns::readReply(std::string("\xbe\xef\x80", 3), q).why) == "short");
    CHECK(dns::readReply({}, q).verdict == dns::Verdict::NotOurs);
}

TEST_CASE("udp: keepalived's reply rule") {
    healthcheck::UdpExpect e;
    e.requireReply = true;
    CHECK(healthcheck::udpReplyMatches(e, ""));  // no reply bytes: any reply, lengths not checked
    CHECK(healthcheck::udpReplyMatches(e, std::string(1000, 'x')));
    e.reply = std::string("\xca\xf0", 2);
    e.mask = std::string("\x00\x0f", 2);
    CHECK(healthcheck::udpReplyMatches(e, std::string("\xca\xfe rest", 7)));
    CHECK(healthcheck::udpReplyMatches(e, std::string("\xca\xf1", 2)));
    CHECK_FALSE(healthcheck::udpReplyMatches(e, std::string("\xcb\xf0", 2)));
    CHECK_FALSE(healthcheck::udpReplyMatches(e, std::string("\xca\xe0", 2)));
    CHECK(healthcheck::udpReplyMatches(e, std::string("\xca", 1)));  // the shorter of the two is compared
    e.minLength = 2;
    CHECK_FALSE(healthcheck::udpReplyMatches(e, std::string("\xca", 1)));
    e.maxLength = 3;
    CHECK_FALSE(healthcheck::udpReplyMatches(e, std::string("\xca\xf0xx", 4)));
    CHECK(healthcheck::udpReplyMatches(e, std::string("\xca\xf0x", 3)));
}

TEST_CASE("smtp: replies of one line and of many, fed in pieces") {
    using healthcheck::SmtpReplyReader;
    using S = SmtpReplyReader::State;
    SmtpReplyReader r;
    CHECK(r.feed("220 mail.example ESMTP") == S::NeedMore);
    CHECK(r.feed("\r\n") == S::Done);
    CHECK(r.code() == 220);
    r.reset();
    CHECK(r.feed("250-first\r\n250-sec") == S::NeedMore);
    CHECK(r.feed("ond\r\n250 last\r\n") == S::Done);
    CHECK(r.code() == 250);
    r.reset();
    CHECK(r.feed("250\n") == S::Done);  // a bare code and a bare LF end a reply too
    r.reset();
    CHECK(r.feed("554 no service\r\n") == S::Done);
    CHECK(r.code() == 554);
}

TEST_CASE("smtp: what is not an SMTP reply is malformed, never a crash") {
    using healthcheck::SmtpReplyReader;
    using S = SmtpReplyReader::State;
    for (const std::string& bad : std::vector<std::string>{"HTTP/1.1 200 OK\r\n", "22\r\n", "220x\r\n", "220-a\r\n250 b\r\n",
                                                           std::string("\0\0\0\n", 4)}) {
        SmtpReplyReader r;
        CHECK(r.feed(bad) == S::Malformed);
    }
    SmtpReplyReader big;
    CHECK(big.feed("220-" + std::string(SmtpReplyReader::kMaxReply, 'x')) == S::Malformed);
    SmtpReplyReader lines;  // many short continuation lines add up to the same bound
    S st = S::NeedMore;
    for (int i = 0; i < 1000 && st == S::NeedMore; ++i) st = lines.feed("220-x\r\n");
    CHECK(st == S::Malformed);
}

TEST_CASE("ping: echo requests and what a raw socket reads back") {
    using healthcheck::IcmpReading;
    using healthcheck::readIcmp;
    const std::string req = healthcheck::echoRequest(true, 0x1234, 7);
    REQUIRE(req.size() >= 8);
    CHECK(static_cast<unsigned char>(req[0]) == 8);
    // the ICMPv4 checksum of the request sums to 0xffff
    std::uint32_t sum = 0;
    for (size_t i = 0; i + 1 < req.size(); i += 2)
        sum += (static_cast<unsigned char>(req[i]) << 8) | static_cast<unsigned char>(req[i + 1]);
    if (req.size() % 2) sum += static_cast<unsigned char>(req.back()) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);

    const std::string ip4("\x45\0\0\0\0\0\0\0\x40\x01\0\0\x0a\0\0\x02\x0a\0\0\x01", 20);
    std::string reply = req;
    reply[0] = 0;  // echo reply
    auto r = readIcmp(ip4 + reply, true, 0x1234);
    CHECK(r.kind == IcmpReading::Reply);
    CHECK(r.seq == 7);
    CHECK(readIcmp(ip4 + reply, true, 0x1235).kind == IcmpReading::Other);  // another pinger's
    CHECK(readIcmp(reply, true, 0x1234).kind == IcmpReading::Other);        // no IPv4 header
    CHECK(readIcmp(ip4 + req, true, 0x1234).kind == IcmpReading::Other);    // a request, not a reply
    // destination unreachable quoting our echo: its IPv4 header and the first 8 bytes
    const std::string unreach = std::string("\x03\x01\0\0\0\0\0\0", 8) + ip4 + req.substr(0, 8);
    r = readIcmp(ip4 + unreach, true, 0x1234);
    CHECK(r.kind == IcmpReading::Unreachable);
    CHECK(r.seq == 7);
    CHECK(readIcmp(ip4 + unreach.substr(0, 20), true, 0x1234).kind == IcmpReading::Other);  // cut short

    // ICMPv6: no IP header on a raw socket's reads; errors quote the IPv6 header (next header 58)
    const std::string req6 = healthcheck::echoRequest(false, 0xbeef, 0xffff);
    CHECK(static_cast<unsigned char>(req6[0]) == 128);
    std::string reply6 = req6;
    reply6[0] = static_cast<char>(129);
    r = readIcmp(reply6, false, 0xbeef);
    CHECK((r.kind == IcmpReading::Reply && r.seq == 0xffff));
    std::string ip6(40, '\0');
    ip6[0] = 0x60;
    ip6[6] = 58;
    r = readIcmp(std::string("\x01\x04\0\0\0\0\0\0", 8) + ip6 + req6.substr(0, 8), false, 0xbeef);
    CHECK((r.kind == IcmpReading::Unreachable && r.seq == 0xffff));
    CHECK(readIcmp({}, false, 0xbeef).kind == IcmpReading::Other);
}
