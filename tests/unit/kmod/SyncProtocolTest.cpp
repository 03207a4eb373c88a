#include <catch2/catch.hpp>

#include <random>

#include "kmod/sync/SyncProtocol.h"

using namespace kmod::sync;
using base::IpAddress;

namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

SyncConn tcpConn() {
    SyncConn c;
    c.protocol = 6;
    c.flags = kFwdRoute | kNoOutput;
    c.state = kTcpEstablished;
    c.cport = 40000;
    c.vport = 80;
    c.dport = 8080;
    c.timeout = 900;
    c.caddr = ip("10.0.0.7");
    c.vaddr = ip("192.0.2.10");
    c.daddr = ip("10.1.0.2");
    return c;
}

SyncConn tmpl() {
    SyncConn c = tcpConn();
    c.flags = kTemplate;
    c.state = 0;
    c.cport = 0;
    c.timeout = 600;
    return c;
}

std::vector<std::uint8_t> one(const SyncConn& c, std::uint8_t id = 5) {
    SyncEncoder e(id, 1472);
    REQUIRE(e.add(c));
    return e.take();
}

SyncDecoded ok(const std::vector<std::uint8_t>& m, std::uint8_t want = 0) {
    auto r = decodeSync(m, want);
    REQUIRE(std::holds_alternative<SyncDecoded>(r));
    return std::get<SyncDecoded>(r);
}

SyncDrop dropped(const std::vector<std::uint8_t>& m, std::uint8_t want = 0) {
    auto r = decodeSync(m, want);
    REQUIRE(std::holds_alternative<SyncDrop>(r));
    return std::get<SyncDrop>(r);
}

void setSize(std::vector<std::uint8_t>& m) {
    m[2] = static_cast<std::uint8_t>(m.size() >> 8);
    m[3] = static_cast<std::uint8_t>(m.size());
}

}  // namespace

TEST_CASE("sync: an IPv4 connection on the wire, byte by byte as the kernel lays it out") {
    const auto m = one(tcpConn());
    REQUIRE(m.size() == kHeaderSize + kV4EntrySize);
    // header: reserved, syncid, size, nr_conns, version, spare
    CHECK(m[0] == 0);
    CHECK(m[1] == 5);
    CHECK((m[2] << 8 | m[3]) == 44);
    CHECK(m[4] == 1);
    CHECK(m[5] == 1);
    CHECK((m[6] | m[7]) == 0);
    const std::uint8_t* e = m.data() + 8;
    CHECK(e[0] == 0);                      // type: IPv4
    CHECK(e[1] == 6);                      // TCP
    CHECK((e[2] << 8 | e[3]) == 36);       // version 0, length 36
    CHECK(e[7] == 0x83);                   // flags: DR | NOOUTPUT
    CHECK((e[8] << 8 | e[9]) == 1);        // ESTABLISHED
    CHECK((e[10] << 8 | e[11]) == 40000);  // cport, network order
    CHECK((e[12] << 8 | e[13]) == 80);
    CHECK((e[14] << 8 | e[15]) == 8080);
    CHECK((e[22] << 8 | e[23]) == 900);  // timeout, seconds
    CHECK(e[24] == 10);
    CHECK(e[27] == 7);
    CHECK(e[28] == 192);
    CHECK(e[35] == 2);
}

TEST_CASE("sync: round trip of v4, v6, templates, sequence and PE options in one message") {
    SyncConn v6 = tcpConn();
    v6.family = base::Family::V6;
    v6.caddr = ip("2001:db8::7");
    v6.vaddr = ip("2001:db8::10");
    v6.daddr = ip("2001:db8:1::2");
    SyncConn seq = tcpConn();
    seq.flags |= 0x0600;
    seq.seq = SeqData{{1, 2, 3, 4, 5, 0xffffffff}};
    SyncConn pe = tmpl();
    pe.protocol = 17;
    pe.peName = "sip";
    pe.peData = "call-id-1234567";
    SyncConn udp = tcpConn();
    udp.protocol = 17;
    udp.state = 0;
    SyncEncoder enc(9, 1472);
    for (const auto& c : {tcpConn(), v6, tmpl(), seq, pe, udp}) REQUIRE(enc.add(c));
    const auto m = enc.take();
    const auto d = ok(m, 9);
    CHECK(d.syncId == 9);
    CHECK(d.drops.empty());
    REQUIRE(d.conns.size() == 6);
    auto expect = [](SyncConn c) {
        c.flags = (c.flags & kBackupMask) | kSyncFlag;
        return c;
    };
    CHECK(d.conns[0] == expect(tcpConn()));
    CHECK(d.conns[1] == expect(v6));
    CHECK(d.conns[2] == expect(tmpl()));
    CHECK(d.conns[3] == expect(seq));
    CHECK(d.conns[4] == expect(pe));
    CHECK(d.conns[5] == expect(udp));
    // no trailing padding: the size is exactly the entries plus the padding between them
    size_t expected = kHeaderSize;
    for (const auto& c : {tcpConn(), v6, tmpl(), seq, pe, udp}) expected = (expected + 3) / 4 * 4 + entrySize(c);
    CHECK(m.size() == expected);
}

TEST_CASE("sync: the encoder keeps to maxlen and 255 entries") {
    SyncEncoder e(1, 1472);
    size_t n = 0;
    while (e.add(tcpConn())) ++n;
    CHECK(n == (1472 - 8) / 36);  // 40, as the kernel packs a 1500-byte link
    CHECK(e.take().size() <= 1472);
    CHECK(e.empty());
    SyncEncoder big(1, 65000);
    n = 0;
    while (big.add(tcpConn())) ++n;
    CHECK(n == 255);  // nr_conns is one byte
    CHECK(ok(big.take()).conns.size() == 255);
}

TEST_CASE("sync: whole datagrams dropped by reason") {
    auto m = one(tcpConn());
    CHECK(dropped({1, 2, 3}) == SyncDrop::TooShort);
    auto longer = m;
    longer.push_back(0);
    CHECK(dropped(longer) == SyncDrop::BadSize);
    CHECK(dropped(m, 6) == SyncDrop::WrongSyncId);
    CHECK(ok(m, 5).conns.size() == 1);
    CHECK(ok(m, 0).conns.size() == 1);  // sync id 0 takes every sync id, as the kernel's backup
    auto v2 = m;
    v2[5] = 2;
    CHECK(dropped(v2) == SyncDrop::NotVersion1);
    auto v0 = m;
    v0[0] = 1;  // a version 0 message's nr_conns
    CHECK(dropped(v0) == SyncDrop::NotVersion1);
    auto spare = m;
    spare[7] = 1;
    CHECK(dropped(spare) == SyncDrop::NotVersion1);
}

TEST_CASE("sync: entry errors drop the rest, or skip one entry, as the kernel does") {
    SyncEncoder e(0, 1472);
    REQUIRE(e.add(tcpConn()));
    REQUIRE(e.add(tcpConn()));
    REQUIRE(e.add(tcpConn()));
    const auto three = e.take();
    const size_t second = kHeaderSize + kV4EntrySize;

    SECTION("truncated: the count promises more than there is") {
        auto m = three;
        m.resize(second + 20);
        setSize(m);
        const auto d = ok(m);
        CHECK(d.conns.size() == 1);
        CHECK(d.drops == std::vector{SyncDrop::Truncated});
    }
    SECTION("an entry longer than the datagram") {
        auto m = three;
        m[second + 3] = 200;
        const auto d = ok(m);
        CHECK(d.conns.size() == 1);
        CHECK(d.drops == std::vector{SyncDrop::Truncated});
    }
    SECTION("entry version 1") {
        auto m = three;
        m[second + 2] |= 0x10;
        const auto d = ok(m);
        CHECK(d.conns.size() == 1);
        CHECK(d.drops == std::vector{SyncDrop::BadEntryVersion});
    }
    SECTION("unknown type bits") {
        auto m = three;
        m[second] = 2;
        CHECK(ok(m).drops == std::vector{SyncDrop::BadType});
        CHECK(ok(m).conns.size() == 1);
    }
    SECTION("unknown protocol and bad state skip only that entry") {
        auto m = three;
        m[second + 1] = 50;       // ESP is not a connection we sync
        m[second + 36 + 9] = 11;  // TCP state 11 does not exist (third entry)
        const auto d = ok(m);
        CHECK(d.conns.size() == 1);
        CHECK(d.drops == (std::vector{SyncDrop::UnknownProtocol, SyncDrop::BadState}));
    }
    SECTION("a template takes any state") {
        SyncConn t = tmpl();
        t.state = 7;
        CHECK(ok(one(t)).conns.size() == 1);
    }
}

TEST_CASE("sync: options") {
    // an entry with one option appended by hand: type, length, data
    auto withOption = [](std::vector<std::uint8_t> opt) {
        auto m = one(tcpConn());
        m.insert(m.end(), opt.begin(), opt.end());
        const size_t len = kV4EntrySize + opt.size();
        m[8 + 2] = static_cast<std::uint8_t>(len >> 8);
        m[8 + 3] = static_cast<std::uint8_t>(len);
        setSize(m);
        return m;
    };
    CHECK(ok(withOption({0x49, 2, 0, 0})).conns.size() == 1);                          // unknown, optional: ignored
    CHECK(ok(withOption({0x41, 2, 0, 0})).drops == std::vector{SyncDrop::BadOption});  // known (seq) even so
    CHECK(ok(withOption({0x09, 2, 0, 0})).drops == std::vector{SyncDrop::UnknownOption});
    CHECK(ok(withOption({0x09, 2, 0, 0})).conns.empty());
    CHECK(ok(withOption({0x01, 0})).drops == std::vector{SyncDrop::BadOption});              // zero length
    CHECK(ok(withOption({0x01, 4, 0, 0, 0, 0})).drops == std::vector{SyncDrop::BadOption});  // seq not 24
    CHECK(ok(withOption({0x02, 9, 1})).drops == std::vector{SyncDrop::BadOption});           // past the end
    CHECK(
        ok(withOption({0x03, 17, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}))
            .drops == std::vector{SyncDrop::BadOption});                               // PE name over 16
    CHECK(ok(withOption({0x02, 2, 'x', 'y'})).drops == std::vector{SyncDrop::BadPe});  // data without a name
    CHECK(ok(withOption({0x03, 3, 's', 'i', 'p'})).conns.size() == 1);                 // a name without data: ignored
    CHECK(ok(withOption({0x02, 1, 'x', 0x02, 1, 'y'})).drops == std::vector{SyncDrop::BadOption});  // twice
}

TEST_CASE("sync: random bytes and mutations never crash the decoder") {
    std::mt19937 rng(12345);
    SyncEncoder e(3, 1472);
    SyncConn pe = tmpl();
    pe.peName = "sip";
    pe.peData = "abc";
    for (const auto& c : {tcpConn(), tmpl(), pe, tcpConn()}) REQUIRE(e.add(c));
    const auto good = e.take();
    size_t decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        auto m = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
        if (rng() % 3 == 0) m.resize(rng() % (m.size() + 1));
        if (rng() % 2) setSize(m);
        auto r = decodeSync(m, 0);
        if (auto* d = std::get_if<SyncDecoded>(&r)) {
            ++decoded;
            CHECK(d->conns.size() + d->drops.size() <= 4u + 1);
        }
    }
    CHECK(decoded > 0);
}
