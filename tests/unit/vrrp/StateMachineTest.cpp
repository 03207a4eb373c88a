// The VRRP state machine on a simulated LAN with a manual clock (Lan.h).
#include <catch2/catch.hpp>

#include <map>

#include "Lan.h"

using namespace vrrptest;

namespace {

// Two routers (150 and 100, 1 s adverts) started together and left 10 s: a is master.
struct Settled {
    Lan lan;
    Router& a = lan.add(150, "10.99.0.11");
    Router& b = lan.add(100, "10.99.0.12");
    Settled() {
        lan.start(a);
        lan.start(b);
        lan.runFor(10s);
    }
};

}  // namespace

TEST_CASE("vrrp: the higher priority becomes master, the other stays backup") {
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(a);
    lan.start(b);
    CHECK(a.m.state() == State::Backup);
    CHECK(lan.untilMaster(a) == vrrp::masterDownInterval(150, 1s));
    lan.runFor(30s);
    CHECK(a.m.state() == State::Master);
    CHECK(b.m.state() == State::Backup);
    CHECK(a.addressesHeld == 1);
    CHECK(b.addressesHeld == 0);
    CHECK(a.transitions == std::vector<State>{State::Backup, State::Master});
}

TEST_CASE("vrrp: master killed: the backup takes over after its master down interval") {
    Settled pair;
    auto& [lan, a, b] = pair;
    REQUIRE(a.m.state() == State::Master);
    // the last advert came at some instant; kill right after it
    lan.runFor(std::chrono::duration_cast<vrrp::Micros>(*a.m.deadline() - lan.now));
    lan.kill(a);
    const auto took = lan.untilMaster(b);
    CHECK(took == vrrp::masterDownInterval(100, 1s));  // 3 x 1 s + (256 - 100) / 256 s, to the microsecond
    CHECK(b.addressesHeld == 1);
}

TEST_CASE("vrrp: clean stop sends priority 0 and the backup takes over after the skew time") {
    Settled pair;
    auto& [lan, a, b] = pair;
    lan.stop(a);
    CHECK(a.addressesHeld == 0);
    CHECK(lan.untilMaster(b) == vrrp::skewTime(100, 1s));
}

TEST_CASE("vrrp: the old master returns and preempts; with nopreempt it stays backup") {
    for (bool preempt : {true, false}) {
        Lan lan;
        auto& a = lan.add(150, "10.99.0.11", 3, 1s, preempt);
        auto& b = lan.add(100, "10.99.0.12", 3, 1s, preempt);
        lan.start(a);
        lan.start(b);
        lan.runFor(10s);
        lan.kill(a);
        lan.untilMaster(b);
        REQUIRE(b.m.state() == State::Master);
        a.m.shutdown(lan.now);
        lan.start(a);
        lan.runFor(20s);
        INFO("preempt " << preempt);
        CHECK(a.m.state() == (preempt ? State::Master : State::Backup));
        CHECK(b.m.state() == (preempt ? State::Backup : State::Master));
        CHECK(lan.masters() == 1);
    }
}

TEST_CASE("vrrp: equal priorities: two masters meet and the higher primary address wins") {
    // (a backup hearing an equal priority master just waits, as RFC 5798 says; the tie is broken
    // when two masters hear each other)
    Lan lan;
    auto& a = lan.add(100, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    a.linked = b.linked = false;
    lan.start(a);
    lan.start(b);
    lan.runFor(5s);
    REQUIRE(lan.masters() == 2);
    a.linked = b.linked = true;
    lan.runFor(3s);
    CHECK(b.m.state() == State::Master);
    CHECK(a.m.state() == State::Backup);
}

TEST_CASE("vrrp: a partition makes two masters; healing leaves one") {
    Settled pair;
    auto& [lan, a, b] = pair;
    b.linked = false;
    lan.runFor(10s);
    CHECK(lan.masters() == 2);
    b.linked = true;
    lan.runFor(3s);
    CHECK(lan.masters() == 1);
    CHECK(a.m.state() == State::Master);
    CHECK(b.addressesHeld == 0);
}

TEST_CASE("vrrp: a master hearing another master's release answers and announces, once per interval") {
    Settled pair;
    auto& [lan, a, b] = pair;
    REQUIRE(a.m.state() == State::Master);
    vrrp::Advert release;
    release.version = 3;
    release.vrid = 51;
    release.priority = 0;
    release.interval = 1s;
    const auto from = *base::IpAddress::parse("10.99.0.12");
    auto acts = a.m.onAdvert(release, from, lan.now);
    CHECK(acts == std::vector<Action>{{Action::Kind::SendAdvert, 150}, {Action::Kind::Announce, 0}});
    acts = a.m.onAdvert(release, from, lan.now + 10ms);  // a second one within the interval: the advert only
    CHECK(acts == std::vector<Action>{{Action::Kind::SendAdvert, 150}});
    CHECK(a.m.state() == State::Master);
}

TEST_CASE("vrrp: v3 backups adopt the master's advertisement interval; the owner (255) starts as master") {
    Lan lan;
    auto& a = lan.add(255, "10.99.0.11", 3, 10ms);
    auto& b = lan.add(100, "10.99.0.12", 3, 1s);
    lan.start(a);
    CHECK(a.m.state() == State::Master);  // at once, no master down wait
    lan.start(b);
    lan.runFor(100ms);
    CHECK(b.m.masterAdverInterval() == 10ms);
    lan.kill(a);
    const auto took = lan.untilMaster(b);
    CHECK(took <= vrrp::masterDownInterval(100, 10ms));
}

TEST_CASE("vrrp: a fault releases the addresses and hands over; recovery starts again") {
    Settled pair;
    auto& [lan, a, b] = pair;
    const auto faultAt = lan.now;
    SECTION("a tracked failure (the VRRP link still up): a priority 0 advert first, as keepalived's") {
        lan.fault(a, true);
        CHECK(a.zeroSent == 1);
        CHECK(a.addressesHeld == 0);
        lan.untilMaster(b);
        CHECK(b.masterAt - faultAt <= vrrp::skewTime(100, 1s) + 1ms);  // its skew, not master-down
        lan.fault(a, false);
    }
    SECTION("the VRRP link itself down: that advert goes nowhere, the backup waits master-down") {
        auto acts = a.m.onFault(true, lan.now);
        CHECK(acts.front() == Action{Action::Kind::SendAdvert, 0});
        CHECK(acts.at(1) == Action{Action::Kind::ReleaseAddresses});
        a.linked = false;
        lan.untilMaster(b);
        CHECK(b.masterAt - faultAt > vrrp::skewTime(100, 1s));
        a.linked = true;
        acts = a.m.onFault(false, lan.now);
    }
    CHECK(a.m.state() == State::Backup);
    CHECK(b.m.state() == State::Master);
    lan.runFor(10s);
    CHECK(a.m.state() == State::Master);  // preempts again
}

TEST_CASE("vrrp: backups of different priorities never fire together (sub-centisecond skew)") {
    Lan lan;
    auto& a = lan.add(101, "10.99.0.11", 3, 10ms);
    auto& b = lan.add(100, "10.99.0.12", 3, 10ms);
    lan.start(a);
    lan.start(b);
    lan.runFor(1s);
    CHECK(lan.masters() == 1);
    CHECK(a.m.state() == State::Master);
    CHECK(b.transitions == std::vector<State>{State::Backup});
}

TEST_CASE("vrrp: preempt_delay holds preemption until that long after the lower master was first seen") {
    Lan lan;
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(b);
    lan.runFor(5s);
    REQUIRE(b.m.state() == State::Master);
    auto& a = lan.add(150, "10.99.0.11", 3, 1s, true, 51, 10s);
    lan.start(a);
    const auto seen = lan.now;
    lan.runFor(9s);  // the delay runs: a stays backup
    CHECK(a.m.state() == State::Backup);
    CHECK(b.m.state() == State::Master);
    lan.runFor(10s);
    CHECK(a.m.state() == State::Master);
    CHECK(b.m.state() == State::Backup);
    // it preempted at the first master down timeout after the delay: 10 s + up to one master down interval
    const auto after = std::chrono::duration_cast<vrrp::Micros>(a.masterAt - seen);
    CHECK(after >= 10s);
    CHECK(after <= 10s + vrrp::masterDownInterval(150, 1s) + 1s);
    // a higher priority master resets it: seen again later, the delay starts again
    lan.stop(a);
    lan.runFor(5s);
    REQUIRE(b.m.state() == State::Master);
    lan.start(a);
    lan.runFor(5s);
    CHECK(a.m.state() == State::Backup);
}

TEST_CASE("vrrp: master transitions are counted with why (VRRPv3-MIB's new-master reason)") {
    using vrrp::MasterReason;
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    CHECK(a.m.masterReason() == MasterReason::NotMaster);
    lan.start(b);
    lan.untilMaster(b);  // alone on the link: nobody answered
    CHECK(b.m.masterReason() == MasterReason::MasterNoResponse);
    CHECK(b.m.masterTransitions() == 1);
    lan.start(a);
    lan.runFor(10s);  // a hears the lower priority master and preempts it
    REQUIRE(a.m.state() == State::Master);
    CHECK(a.m.masterReason() == MasterReason::Preempted);
    CHECK(a.m.masterTransitions() == 1);
    lan.stop(a);  // priority 0: b takes over because the master released
    lan.untilMaster(b);
    CHECK(b.m.masterReason() == MasterReason::Priority);
    CHECK(b.m.masterTransitions() == 2);
    lan.start(a);
    lan.runFor(10s);
    lan.kill(a);  // silent: b's Master_Down_Timer runs out
    lan.untilMaster(b);
    CHECK(b.m.masterReason() == MasterReason::MasterNoResponse);
    CHECK(b.m.masterTransitions() == 3);

    Lan owner;
    auto& o = owner.add(255, "10.99.0.21");
    owner.start(o);
    CHECK(o.m.masterReason() == MasterReason::Preempted);  // the owner takes the addresses at once
}

TEST_CASE("vrrp: a startup delay keeps a router from mastership until it ends") {
    // alone (master when the delay ends, not at the master down interval), and the address owner
    for (auto [prio, delay] : {std::pair<std::uint8_t, vrrp::Micros>{150, 10s}, {255, 5s}}) {
        Lan lan;
        auto& a = lan.add(prio, "10.99.0.11");
        a.m.holdMasterUntil(lan.now + delay);
        lan.start(a);
        CHECK(a.m.state() == State::Backup);
        CHECK(lan.untilMaster(a, 20s) == delay);
    }
    SECTION("a higher priority booting beside a master listens, then preempts after the delay") {
        Lan lan;
        auto& b = lan.add(100, "10.99.0.12");
        lan.start(b);
        lan.runFor(10s);
        REQUIRE(b.m.state() == State::Master);
        auto& a = lan.add(200, "10.99.0.11");
        const auto bootedAt = lan.now;
        a.m.holdMasterUntil(lan.now + 20s);
        lan.start(a);
        lan.runFor(19s);
        CHECK(a.m.state() == State::Backup);  // preemption waits for the delay
        CHECK(b.m.state() == State::Master);
        CHECK(lan.masters() == 1);
        lan.untilMaster(a, 10s);
        CHECK(a.m.state() == State::Master);
        CHECK(a.masterAt - bootedAt >= 20s);
        lan.runFor(5s);
        CHECK(b.m.state() == State::Backup);
    }
}

namespace {

// A router alone on its link that has become master (at once as the owner, else when its
// Master_Down_Timer ran out), with the two advert options as given.
vrrp::StateMachine aloneMaster(std::uint8_t prio, bool replyToLower, bool advertOnYield) {
    vrrp::MachineConfig c;
    c.priority = prio;
    c.primary = *base::IpAddress::parse("10.99.0.11");
    c.replyToLower = replyToLower;
    c.advertOnYield = advertOnYield;
    vrrp::StateMachine m(c);
    (void)m.startup(vrrp::TimePoint{} + 1h);
    (void)m.onTimer(vrrp::TimePoint{} + 2h);
    REQUIRE(m.state() == State::Master);
    return m;
}

std::vector<vrrp::Action::Kind> kinds(const std::vector<vrrp::Action>& as) {
    std::vector<vrrp::Action::Kind> out;
    for (const auto& a : as) out.push_back(a.kind);
    return out;
}

}  // namespace

TEST_CASE("vrrp: lower_prio_no_advert and higher_prio_send_advert change what a master sends") {
    using K = vrrp::Action::Kind;
    const auto now = vrrp::TimePoint{} + 2h + 100ms;
    const auto src = *base::IpAddress::parse("10.99.0.12");
    vrrp::Advert lower, higher;
    lower.priority = 50;
    higher.priority = 200;
    auto m1 = aloneMaster(255, true, true);
    CHECK(kinds(m1.onAdvert(lower, src, now)) == std::vector<K>{K::SendAdvert, K::Announce});
    auto m2 = aloneMaster(255, false, true);
    // lower_prio_no_advert: no advert, but the announcements (and the event) as keepalived's
    CHECK(kinds(m2.onAdvert(lower, src, now)) == std::vector<K>{K::Announce});
    CHECK(m2.state() == State::Master);
    auto m3 = aloneMaster(100, true, true);
    CHECK(kinds(m3.onAdvert(higher, src, now)) == std::vector<K>{K::SendAdvert, K::ReleaseAddresses, K::Transition});
    auto m4 = aloneMaster(100, true, false);  // keepalived's default: no advert on yielding
    CHECK(kinds(m4.onAdvert(higher, src, now)) == std::vector<K>{K::ReleaseAddresses, K::Transition});
}
