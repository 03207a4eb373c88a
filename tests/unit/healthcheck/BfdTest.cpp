// BFD's codec and session state machine (healthcheck/Bfd.h): RFC 5880's wire layout, 6.8.6's
// reception checks, the three-way handshake, Poll/Final, detection and the transmit intervals.
// Live sessions against BIRD and FRR are tests/netns/bfd_check_test.py.
#include <catch2/catch.hpp>

#include "healthcheck/Bfd.h"

using namespace healthcheck::bfd;
using namespace std::chrono_literals;

namespace {

Params fast() {
    Params p;
    p.minTx = 50ms;
    p.minRx = 50ms;
    p.idleTx = 1s;
    p.multiplier = 3;
    return p;
}

const Clock::time_point t0 = Clock::time_point{} + 1h;

}  // namespace

TEST_CASE("bfd: a control packet's bytes are RFC 5880 4.1's") {
    Packet p;
    p.diag = Diag::NeighborDown;
    p.state = State::Up;
    p.poll = true;
    p.detectMult = 3;
    p.myDisc = 0x11223344;
    p.yourDisc = 0xaabbccdd;
    p.desiredMinTx = 50'000;
    p.requiredMinRx = 1'000'000;
    const auto b = encode(p);
    const std::array<std::uint8_t, 24> want{0x23, 0xe0, 3,    24,   0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd,
                                            0,    0,    0xc3, 0x50, 0,    0x0f, 0x42, 0x40, 0,    0,    0,    0};
    CHECK(b == want);
    Packet back;
    REQUIRE(decode(b, back) == Drop::None);
    CHECK(back == p);
}

TEST_CASE("bfd: RFC 5880 6.8.6's checks drop what they must, each by its reason") {
    Packet ok;
    ok.state = State::Up;
    ok.detectMult = 3;
    ok.myDisc = 7;
    ok.yourDisc = 9;
    Packet out;
    auto with = [&](auto change) {
        auto b = encode(ok);
        change(b);
        return decode(b, out);
    };
    CHECK(with([](auto&) {}) == Drop::None);
    const auto full = encode(ok);
    CHECK(decode(std::span<const std::uint8_t>(full.data(), 23), out) == Drop::Short);
    CHECK(with([](auto& b) { b[0] = 0x00; }) == Drop::Version);       // version 0
    CHECK(with([](auto& b) { b[0] = 0x40; }) == Drop::Version);       // version 2
    CHECK(with([](auto& b) { b[3] = 23; }) == Drop::Length);          // below the mandatory section
    CHECK(with([](auto& b) { b[3] = 40; }) == Drop::Length);          // more than the datagram
    CHECK(with([](auto& b) { b[2] = 0; }) == Drop::DetectMult);
    CHECK(with([](auto& b) { b[1] |= 0x01; }) == Drop::Multipoint);
    CHECK(with([](auto& b) { b[4] = b[5] = b[6] = b[7] = 0; }) == Drop::MyDiscZero);
    CHECK(with([](auto& b) { b[8] = b[9] = b[10] = b[11] = 0; }) == Drop::YourDiscZero);  // Up with no Your Disc
    CHECK(with([](auto& b) {
              b[8] = b[9] = b[10] = b[11] = 0;
              b[1] = static_cast<std::uint8_t>(b[1] & 0x3f) | 0x40;  // Down: Your Disc 0 is normal
          }) == Drop::None);
    CHECK(with([](auto& b) {
              b[1] |= 0x04;  // A bit, and room for an auth section
              b[3] = 24;
          }) == Drop::Length);
    std::array<std::uint8_t, 28> authed{};
    std::copy(full.begin(), full.end(), authed.begin());
    authed[1] |= 0x04;
    authed[3] = 28;
    CHECK(decode(authed, out) == Drop::Auth);  // no authentication is configured (as keepalived)
    // a longer datagram whose Length says 24 is fine: the rest is not ours to read
    std::array<std::uint8_t, 30> longer{};
    std::copy(full.begin(), full.end(), longer.begin());
    CHECK(decode(longer, out) == Drop::None);
}

TEST_CASE("bfd: two sessions come up by the three-way handshake and tell each other to go fast") {
    Session a(fast(), 1), b(fast(), 2);
    auto now = t0;
    // a speaks first: Down with no Your Disc; b goes Init; a hears Init and goes Up; b hears Up
    auto pa = a.transmit(now, 0.5);
    CHECK(pa.state == State::Down);
    CHECK(pa.yourDisc == 0);
    CHECK(pa.desiredMinTx == 1'000'000);  // idle while not Up (RFC 5880 6.8.3: at least 1 s)
    CHECK(b.receive(pa, now));
    CHECK(b.state() == State::Init);
    auto pb = b.transmit(now, 0.5);
    CHECK(pb.state == State::Init);
    CHECK(pb.yourDisc == 1);
    CHECK(a.receive(pb, now));
    CHECK(a.state() == State::Up);
    CHECK(a.remoteDisc() == 2);
    // a's Up packet asks for the faster rate with a Poll; b goes Up and answers with a Final
    pa = a.transmit(now, 0.5);
    CHECK(pa.state == State::Up);
    CHECK(pa.poll);
    CHECK(pa.desiredMinTx == 50'000);
    CHECK(b.receive(pa, now));
    CHECK(b.state() == State::Up);
    CHECK(b.replyNow());  // a Final is owed at once
    pb = b.transmit(now, 0.5);
    CHECK(pb.final);
    CHECK_FALSE(pb.poll);  // never both
    CHECK_FALSE(b.replyNow());
    a.receive(pb, now);
    pa = a.transmit(now, 0.5);
    CHECK_FALSE(pa.poll);  // the Poll Sequence ended with b's Final
    CHECK(a.txInterval() == 50ms);
    CHECK(a.detectTime() == 150ms);  // b's Detect Mult 3 x max(our min_rx, b's desired tx)
    CHECK(a.transitions() == 1);
    CHECK(b.transitions() == 2);  // Down -> Init -> Up
}

namespace {

// Both sessions Up, packets exchanged once more so the polls are over.
void bringUp(Session& a, Session& b, Clock::time_point now) {
    for (int i = 0; i < 4; ++i) {
        b.receive(a.transmit(now, 0), now);
        a.receive(b.transmit(now, 0), now);
    }
    REQUIRE(a.state() == State::Up);
    REQUIRE(b.state() == State::Up);
}

}  // namespace

TEST_CASE("bfd: silence for the detection time brings an Up session down, diag Expired") {
    Session a(fast(), 1), b(fast(), 2);
    bringUp(a, b, t0);
    REQUIRE(a.detectDeadline());
    CHECK(*a.detectDeadline() == t0 + 150ms);
    CHECK_FALSE(a.expire(t0 + 149ms));
    CHECK(a.state() == State::Up);
    CHECK(a.expire(t0 + 150ms));
    CHECK(a.state() == State::Down);
    CHECK(a.diag() == Diag::Expired);
    CHECK(a.remoteDisc() == 0);  // RFC 5880 6.8.1: forgotten
    CHECK_FALSE(a.detectDeadline());  // Down with nobody: nothing left to detect
    // back to the idle rate, told to the peer at once
    CHECK(a.nextTransmit() <= t0 + 150ms);
    const auto p = a.transmit(t0 + 150ms, 0);
    CHECK(p.state == State::Down);
    CHECK(p.diag == Diag::Expired);
    CHECK(p.desiredMinTx == 1'000'000);
    CHECK(p.yourDisc == 0);
}

TEST_CASE("bfd: the neighbor signals Down or AdminDown: our session goes Down, diag Neighbor Signaled") {
    for (State remote : {State::Down, State::AdminDown}) {
        Session a(fast(), 1), b(fast(), 2);
        bringUp(a, b, t0);
        Packet p = b.transmit(t0, 0);
        p.state = remote;
        p.diag = remote == State::AdminDown ? Diag::AdminDown : Diag::Expired;
        CHECK(a.receive(p, t0));
        CHECK(a.state() == State::Down);
        CHECK(a.diag() == Diag::NeighborDown);
    }
    // and a session of ours that stops says AdminDown, diag AdminDown
    Session a(fast(), 1), b(fast(), 2);
    bringUp(a, b, t0);
    a.adminDown();
    const auto p = a.transmit(t0, 0);
    CHECK(p.state == State::AdminDown);
    CHECK(p.diag == Diag::AdminDown);
    CHECK(b.receive(p, t0));
    CHECK(b.state() == State::Down);
    // AdminDown does not come back up by itself
    CHECK_FALSE(a.receive(b.transmit(t0, 0), t0));
    CHECK(a.state() == State::AdminDown);
}

TEST_CASE("bfd: Init does not go Up on a Down, and Down does not go Up on an Up") {
    Session a(fast(), 1);
    Packet p;
    p.detectMult = 3;
    p.myDisc = 2;
    p.requiredMinRx = 50'000;
    p.desiredMinTx = 50'000;
    p.state = State::Up;  // a stale Up from a session we do not have: RFC 5880 6.8.6 ignores it in Down
    p.yourDisc = 1;
    CHECK_FALSE(a.receive(p, t0));
    CHECK(a.state() == State::Down);
    p.state = State::Down;
    CHECK(a.receive(p, t0));
    CHECK(a.state() == State::Init);
    CHECK_FALSE(a.receive(p, t0));  // still Down over there: stay Init
    CHECK(a.state() == State::Init);
    p.state = State::Up;
    CHECK(a.receive(p, t0));
    CHECK(a.state() == State::Up);
}

TEST_CASE("bfd: transmit intervals are 75-100% of the agreed one (75-90% with Detect Mult 1)") {
    Session a(fast(), 1), b(fast(), 2);
    bringUp(a, b, t0);
    a.transmit(t0, 0.0);
    CHECK(*a.nextTransmit() == t0 + 37'500us);
    a.transmit(t0, 1.0);
    CHECK(*a.nextTransmit() == t0 + 50ms);
    Params one = fast();
    one.multiplier = 1;
    Session c(one, 3), d(fast(), 4);
    bringUp(c, d, t0);
    c.transmit(t0, 1.0);
    CHECK(*c.nextTransmit() == t0 + 45ms);
    // the slower of our rate and what the peer can take
    Packet slow = d.transmit(t0, 0);
    slow.requiredMinRx = 300'000;
    a.receive(slow, t0);
    CHECK(a.txInterval() == 300ms);
    // a peer that wants nothing gets no periodic packets
    slow.requiredMinRx = 0;
    a.receive(slow, t0);
    a.transmit(t0, 0);
    CHECK_FALSE(a.nextTransmit());
}

TEST_CASE("bfd: a passive session is silent until the peer's first packet") {
    Params p = fast();
    p.passive = true;
    Session a(p, 1), b(fast(), 2);
    CHECK_FALSE(a.nextTransmit());
    a.receive(b.transmit(t0, 0), t0);
    CHECK(a.nextTransmit());
    CHECK(a.state() == State::Init);
}
