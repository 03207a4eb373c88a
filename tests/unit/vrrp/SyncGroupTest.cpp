// Sync groups on the simulated LAN (Lan.h): two directors, each with instances for VRID 51 and 52
// in one group. The group moves as one: never half of it on each director.
#include <catch2/catch.hpp>

#include "Lan.h"

using namespace vrrptest;

namespace {

struct TwoDirectors {
    Lan lan;
    // director 1 prefers both (150), director 2 is the backup (100)
    Router& a51 = lan.add(150, "10.99.0.11", 3, 1s, true, 51);
    Router& a52 = lan.add(150, "10.99.0.11", 3, 1s, true, 52);
    Router& b51 = lan.add(100, "10.99.0.12", 3, 1s, true, 51);
    Router& b52 = lan.add(100, "10.99.0.12", 3, 1s, true, 52);
    TwoDirectors() {
        lan.group({&a51, &a52});
        lan.group({&b51, &b52});
        for (Router* r : {&a51, &a52, &b51, &b52}) lan.start(*r);
        lan.runFor(10s);
    }
    bool aHoldsAll() const {
        return a51.m.state() == State::Master && a52.m.state() == State::Master && b51.m.state() == State::Backup &&
               b52.m.state() == State::Backup;
    }
    bool bHoldsAll() const {
        return b51.m.state() == State::Master && b52.m.state() == State::Master && a51.m.state() != State::Master &&
               a52.m.state() != State::Master;
    }
};

}  // namespace

TEST_CASE("vrrp sync group: both instances go master together on the preferred director") {
    TwoDirectors t;
    CHECK(t.aHoldsAll());
    CHECK(t.lan.masters() == 2);
    CHECK(t.a51.masterAt == t.a52.masterAt);  // the later one's timer took both over at once
}

TEST_CASE("vrrp sync group: a fault in one member puts the whole group in FAULT; the peer takes all") {
    TwoDirectors t;
    t.lan.fault(t.a52, true);
    CHECK(t.a51.m.state() == State::Fault);
    CHECK(t.a52.m.state() == State::Fault);
    t.lan.runFor(5s);
    CHECK(t.bHoldsAll());
    CHECK(t.a51.addressesHeld == 0);
    // recovery: both come back and preempt together
    t.lan.fault(t.a52, false);
    t.lan.runFor(10s);
    CHECK(t.aHoldsAll());
}

TEST_CASE("vrrp sync group: after a partition, a member outvoted takes its whole group to backup") {
    TwoDirectors t;
    // director 2 cut off: it takes both VRIDs too (both directors master)
    t.b51.linked = t.b52.linked = false;
    t.lan.runFor(5s);
    REQUIRE(t.lan.masters() == 4);
    // heal: b51 hears a51 (150 > 100) and becomes backup; b52 follows, announcing priority 0
    t.b51.linked = t.b52.linked = true;
    const auto zeroBefore = t.b51.zeroSent + t.b52.zeroSent;
    t.lan.runFor(3s);
    CHECK(t.aHoldsAll());
    CHECK(t.b51.zeroSent + t.b52.zeroSent == zeroBefore + 1);
    t.lan.runFor(30s);
    CHECK(t.aHoldsAll());
    CHECK(t.lan.masters() == 2);
}

TEST_CASE("vrrp sync group: a backup group does not preempt unless every member would") {
    TwoDirectors t;
    // director 2's VRID 52 now outranks director 1's, VRID 51 does not: the group stays on director 1
    // (keepalived's rule: backup is preferred to thrashing)
    t.b52.m.setPriority(200);
    t.lan.runFor(30s);
    CHECK(t.aHoldsAll());
    CHECK(t.b52.m.wantsMaster());
    CHECK(!t.b51.m.wantsMaster());
    // once VRID 51 outranks too, director 2 takes both
    t.b51.m.setPriority(200);
    t.lan.runFor(10s);
    CHECK(t.bHoldsAll());
    CHECK(t.b51.masterAt == t.b52.masterAt);
}

TEST_CASE("vrrp sync group: the preferred director dies and comes back") {
    TwoDirectors t;
    t.lan.kill(t.a51);
    t.lan.kill(t.a52);
    t.lan.runFor(5s);
    CHECK(t.b51.m.state() == State::Master);
    CHECK(t.b52.m.state() == State::Master);
    CHECK(t.b51.masterAt == t.b52.masterAt);
    t.lan.start(t.a51);
    t.lan.start(t.a52);
    t.lan.runFor(10s);
    CHECK(t.lan.masters() == 2);
}

TEST_CASE("vrrp sync group: the common state is reported only when all members share it") {
    TwoDirectors t;
    std::vector<vrrp::SyncMember> ms{{&t.a51.m, false}, {&t.a52.m, false}};
    CHECK(vrrp::SyncGroup::common(ms) == State::Master);
    t.lan.fault(t.a51, true);
    CHECK(vrrp::SyncGroup::common(ms) == State::Fault);
    std::vector<vrrp::SyncMember> mixed{{&t.a51.m, false}, {&t.b51.m, false}};
    CHECK(!vrrp::SyncGroup::common(mixed));
}
