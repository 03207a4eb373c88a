// A simulated LAN for the VRRP state machine with a manual clock: every router's adverts reach
// every other live router of the same VRID at once; time jumps to the next deadline. Routers may
// form sync groups: the real vrrp::InstanceGroup over them (a Router is a GroupMember).
#pragma once
#include <memory>
#include <vector>

#include "vrrp/Instance.h"
#include "vrrp/StateMachine.h"
#include "vrrp/SyncGroup.h"

using namespace std::chrono_literals;
using vrrp::Action;
using vrrp::State;

namespace vrrptest {

class Lan;

struct Router : vrrp::GroupMember {
    Router(Lan& l, vrrp::StateMachine machine) : lan(l), m(std::move(machine)) {}
    Lan& lan;
    vrrp::InstanceGroup* group = nullptr;
    vrrp::StateMachine& machine() override { return m; }
    bool ownFault() const override { return ownFaultFlag; }
    void run(const std::vector<Action>& actions) override;
    void joinGroup(vrrp::InstanceGroup* g) override {
        group = g;
        m.setGated(g != nullptr);
    }
    vrrp::StateMachine m;
    bool alive = true;   // false: killed (no adverts, no timers)
    bool linked = true;  // false: cut off the LAN (partition)
    int addressesHeld = 0;
    std::vector<State> transitions;
    vrrp::TimePoint masterAt{};
    std::uint8_t vrid = 51;
    bool ownFaultFlag = false;  // its trackers say FAULT (set through Lan::fault)
    size_t zeroSent = 0;        // adverts with priority 0
    size_t announces = 0;       // re-announcements of held addresses
};

class Lan {
public:
    vrrp::TimePoint now = vrrp::TimePoint{} + 1h;

    Router& add(std::uint8_t prio, const char* primary, int version = 3, vrrp::Micros interval = 1s,
                bool preempt = true, std::uint8_t vrid = 51, vrrp::Micros preemptDelay = {}) {
        vrrp::MachineConfig c;
        c.version = version;
        c.vrid = vrid;
        c.preemptDelay = preemptDelay;
        c.priority = prio;
        c.advertInterval = interval;
        c.preempt = preempt;
        c.primary = *base::IpAddress::parse(primary);
        routers_.push_back(std::make_unique<Router>(*this, vrrp::StateMachine(c)));
        routers_.back()->vrid = vrid;
        return *routers_.back();
    }
    // A director's sync group: its members are routers (one per VRID) on the same director.
    vrrp::InstanceGroup& group(std::vector<Router*> members) {
        std::vector<vrrp::GroupMember*> ms(members.begin(), members.end());
        groups_.push_back(std::make_unique<vrrp::InstanceGroup>("group", ms, nullptr));
        return *groups_.back();
    }
    // The router's trackers fail or recover (a link, a script).
    void fault(Router& r, bool failed) {
        r.ownFaultFlag = failed;
        if (r.group) r.group->changed(now);
        else handle(r, r.m.onFault(failed, now));
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
                if (r->alive && r->m.deadline() && *r->m.deadline() <= end &&
                    (!next || *r->m.deadline() < *next->m.deadline()))
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

    void handle(Router& from, const std::vector<Action>& actions) {
        for (const auto& a : actions) {
            switch (a.kind) {
            case Action::Kind::SendAdvert: {
                ++adverts;
                if (a.priority == 0) ++from.zeroSent;
                if (!from.linked) break;
                vrrp::Advert ad;
                ad.version = from.m.config().version;
                ad.vrid = from.vrid;
                ad.priority = a.priority;
                ad.interval = from.m.config().advertInterval;
                for (auto& r : routers_)
                    if (r.get() != &from && r->alive && r->linked && r->vrid == from.vrid)
                        handle(*r, r->m.onAdvert(ad, from.m.config().primary, now));
                break;
            }
            case Action::Kind::TakeAddresses: from.addressesHeld = 1; break;
            case Action::Kind::ReleaseAddresses: from.addressesHeld = 0; break;
            case Action::Kind::Announce: ++from.announces; break;
            case Action::Kind::Transition:
                from.transitions.push_back(a.to);
                if (a.to == State::Master) from.masterAt = now;
                break;
            }
        }
        if (from.group) from.group->changed(now);
    }

private:
    std::vector<std::unique_ptr<Router>> routers_;
    std::vector<std::unique_ptr<vrrp::InstanceGroup>> groups_;
};

inline void Router::run(const std::vector<Action>& actions) { lan.handle(*this, actions); }

}  // namespace vrrptest
