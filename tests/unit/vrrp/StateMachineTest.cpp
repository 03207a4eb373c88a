// The VRRP state machine on a simulated LAN with a manual clock: every router's adverts reach every
// other live router at once; time jumps to the next deadline.
#include <catch2/catch.hpp>

#include <map>

#include "vrrp/StateMachine.h"

using namespace std::chrono_literals;
using vrrp::Action;
using vrrp::State;

namespace {

struct Router {
    explicit Router(vrrp::StateMachine machine) : m(std::move(machine)) {}
    vrrp::StateMachine m;
    bool alive = true;   // false: killed (no adverts, no timers)
    bool linked = true;  // false: cut off the LAN (partition)
    int addressesHeld = 0;
    std::vector<State> transitions;
    vrrp::TimePoint masterAt{};
};

class Lan {
public:
    vrrp::TimePoint now = vrrp::TimePoint{} + 1h;

    Router& add(std::uint8_t prio, const char* primary, int version = 3, vrrp::Micros interval = 1s, bool preempt = true) {
        vrrp::MachineConfig c;
        c.version = version;
        c.vrid = 51;
        c.priority = prio;
        c.advertInterval = interval;
        c.preempt = preempt;
        c.primary = *base::IpAddress::parse(primary);
        routers_.push_back(std::make_unique<Router>(vrrp::StateMachine(c)));
        return *routers_.back();
    }
    void start(Router& r) {
        r.alive = true;
        handle(r, r.m.startup(now));
    }
    void stop(Router& r) {
        handle(r, r.m.shutdown(now));
        r.alive = false;
    }
    void kill(Router& r) { r.alive = false; }
    // Runs until `until`, firing deadlines in order.
    void runFor(vrrp::Micros d) {
        const auto end = now + d;
        while (true) {
            Router* next = nullptr;
            for (auto& r : routers_)
                if (r->alive && r->m.deadline() && *r->m.deadline() <= end && (!next || *r->m.deadline() < *next->m.deadline()))
                    next = r.get();
            if (!next) break;
            now = *next->m.deadline();
            handle(*next, next->m.onTimer(now));
        }
        now = end;
    }
    // Runs until some router becomes master; returns how long it took.
    vrrp::Micros untilMaster(Router& r, vrrp::Micros limit = 10s) {
        const auto start = now;
        while (r.m.state() != State::Master && now - start < limit) runFor(1ms);
        return std::chrono::duration_cast<vrrp::Micros>(r.masterAt - start);
    }
    int masters() const {
        int n = 0;
        for (const auto& r : routers_)
            if (r->alive && r->m.state() == State::Master) ++n;
        return n;
    }
    size_t adverts = 0;

private:
    void handle(Router& from, const std::vector<Action>& actions) {
        for (const auto& a : actions) {
            switch (a.kind) {
            case Action::Kind::SendAdvert: {
                ++adverts;
                if (!from.linked) break;
                vrrp::Advert ad;
                ad.version = from.m.config().version;
                ad.vrid = 51;
                ad.priority = a.priority;
                ad.interval = from.m.config().advertInterval;
                for (auto& r : routers_)
                    if (r.get() != &from && r->alive && r->linked) handle(*r, r->m.onAdvert(ad, from.m.config().primary, now));
                break;
            }
            case Action::Kind::TakeAddresses: ++from.addressesHeld; break;
            case Action::Kind::ReleaseAddresses: --from.addressesHeld; break;
            case Action::Kind::Transition:
                from.transitions.push_back(a.to);
                if (a.to == State::Master) from.masterAt = now;
                break;
            }
        }
    }
    std::vector<std::unique_ptr<Router>> routers_;
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
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(a);
    lan.start(b);
    lan.runFor(10s);
    REQUIRE(a.m.state() == State::Master);
    // the last advert came at some instant; kill right after it
    lan.runFor(std::chrono::duration_cast<vrrp::Micros>(*a.m.deadline() - lan.now));
    lan.kill(a);
    const auto took = lan.untilMaster(b);
    CHECK(took == vrrp::masterDownInterval(100, 1s));  // 3 x 1 s + (256 - 100) / 256 s, to the microsecond
    CHECK(b.addressesHeld == 1);
}

TEST_CASE("vrrp: clean stop sends priority 0 and the backup takes over after the skew time") {
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(a);
    lan.start(b);
    lan.runFor(10s);
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
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(a);
    lan.start(b);
    lan.runFor(10s);
    b.linked = false;
    lan.runFor(10s);
    CHECK(lan.masters() == 2);
    b.linked = true;
    lan.runFor(3s);
    CHECK(lan.masters() == 1);
    CHECK(a.m.state() == State::Master);
    CHECK(b.addressesHeld == 0);
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
    Lan lan;
    auto& a = lan.add(150, "10.99.0.11");
    auto& b = lan.add(100, "10.99.0.12");
    lan.start(a);
    lan.start(b);
    lan.runFor(10s);
    auto acts = a.m.onFault(true, lan.now);
    CHECK(a.m.state() == State::Fault);
    CHECK(acts.front() == Action{Action::Kind::ReleaseAddresses});
    a.linked = false;
    lan.untilMaster(b);
    CHECK(b.m.state() == State::Master);
    a.linked = true;
    acts = a.m.onFault(false, lan.now);
    CHECK(a.m.state() == State::Backup);
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
