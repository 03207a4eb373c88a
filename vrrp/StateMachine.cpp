#include "vrrp/StateMachine.h"

namespace vrrp {

const char* stateName(State s) {
    switch (s) {
    case State::Init: return "INIT";
    case State::Backup: return "BACKUP";
    case State::Master: return "MASTER";
    case State::Fault: return "FAULT";
    }
    return "?";
}

// v3: the skew scales with the master's interval (RFC 5798); v2: with our own (RFC 3768).
Micros StateMachine::skew() const {
    return skewTime(cfg_.priority, cfg_.version == 3 ? masterAdverInterval_ : cfg_.advertInterval);
}

Micros StateMachine::masterDownInterval() const {
    return vrrp::masterDownInterval(cfg_.priority, cfg_.version == 3 ? masterAdverInterval_ : cfg_.advertInterval);
}

void StateMachine::becomeBackup(std::vector<Action>& out, TimePoint now) {
    if (state_ == State::Master) out.push_back({Action::Kind::ReleaseAddresses});
    state_ = State::Backup;
    wantMaster_ = false;
    preemptAt_.reset();
    deadline_ = now + masterDownInterval();
    out.push_back({Action::Kind::Transition, 0, State::Backup});
}

void StateMachine::becomeMaster(std::vector<Action>& out, TimePoint now) {
    state_ = State::Master;
    ++masterTransitions_;
    masterReason_ = nextReason_;
    nextReason_ = MasterReason::MasterNoResponse;
    wantMaster_ = false;
    preemptAt_.reset();
    out.push_back({Action::Kind::SendAdvert, cfg_.priority});
    out.push_back({Action::Kind::TakeAddresses});
    out.push_back({Action::Kind::Transition, 0, State::Master});
    deadline_ = now + cfg_.advertInterval;
}

std::vector<Action> StateMachine::startup(TimePoint now) {
    std::vector<Action> out;
    if (state_ != State::Init) return out;
    masterAdverInterval_ = cfg_.advertInterval;
    nextReason_ = cfg_.priority == 255 ? MasterReason::Preempted : MasterReason::MasterNoResponse;
    const bool held = notBefore_ && now < *notBefore_;
    if (cfg_.priority == 255 && !held) becomeMaster(out, now);
    else becomeBackup(out, now);
    if (held && cfg_.priority == 255) deadline_ = *notBefore_;
    return out;
}

std::vector<Action> StateMachine::resume(State was, TimePoint now) {
    std::vector<Action> out;
    if (state_ != State::Init) return out;
    masterAdverInterval_ = cfg_.advertInterval;
    if (was == State::Master || cfg_.priority == 255) {
        state_ = State::Master;
        out.push_back({Action::Kind::SendAdvert, cfg_.priority});
        out.push_back({Action::Kind::TakeAddresses});
        deadline_ = now + cfg_.advertInterval;
        return out;
    }
    out.push_back({Action::Kind::ReleaseAddresses});
    state_ = State::Backup;
    deadline_ = now + masterDownInterval();
    return out;
}

std::vector<Action> StateMachine::reconfigure(const MachineConfig& next, TimePoint now) {
    std::vector<Action> out;
    const bool intervalChanged = next.advertInterval != cfg_.advertInterval;
    const bool priorityChanged = next.priority != cfg_.priority;
    const base::IpAddress primary = cfg_.primary;  // the instance's own, not the config's
    cfg_ = next;
    cfg_.primary = primary;
    if (state_ == State::Master && (intervalChanged || priorityChanged)) {
        out.push_back({Action::Kind::SendAdvert, cfg_.priority});
        deadline_ = now + cfg_.advertInterval;
    } else if (state_ == State::Backup && intervalChanged && cfg_.version == 2) {
        deadline_ = now + masterDownInterval();  // v2 backups time the master by their own interval
    }
    if (!cfg_.preempt) preemptAt_.reset();
    return out;
}

std::vector<Action> StateMachine::shutdown(TimePoint) {
    std::vector<Action> out;
    if (state_ == State::Master) {
        out.push_back({Action::Kind::SendAdvert, 0});  // backups take over after their skew time
        out.push_back({Action::Kind::ReleaseAddresses});
    }
    if (state_ != State::Init) out.push_back({Action::Kind::Transition, 0, State::Init});
    state_ = State::Init;
    deadline_.reset();
    return out;
}

std::vector<Action> StateMachine::onTimer(TimePoint now) {
    std::vector<Action> out;
    if (!deadline_ || now < *deadline_) return out;
    if (state_ == State::Backup) {
        if (notBefore_ && now < *notBefore_) {
            deadline_ = *notBefore_;  // the startup delay: not master before it ends
        } else if (!gated_) {
            becomeMaster(out, now);  // Master_Down_Timer: the master is gone
        } else {
            wantMaster_ = true;  // the sync group decides; ask again after another interval
            deadline_ = now + masterDownInterval();
        }
    } else if (state_ == State::Master) {
        out.push_back({Action::Kind::SendAdvert, cfg_.priority});
        // stay on the grid: a late timer does not push every later advert back
        *deadline_ += cfg_.advertInterval;
        if (*deadline_ <= now) deadline_ = now + cfg_.advertInterval;
    } else {
        deadline_.reset();
    }
    return out;
}

std::vector<Action> StateMachine::onAdvert(const Advert& a, const base::IpAddress& src, TimePoint now,
                                           const base::IpAddress* self) {
    std::vector<Action> out;
    if (state_ == State::Backup) {
        if (a.priority == 0) {
            deadline_ = now + skew();  // the master left: take over after the skew time only
            nextReason_ = MasterReason::Priority;
            return out;
        }
        bool mayPreempt = cfg_.preempt && a.priority < cfg_.priority;
        if (mayPreempt && cfg_.preemptDelay.count() > 0) {
            if (!preemptAt_) preemptAt_ = now + cfg_.preemptDelay;
            mayPreempt = now >= *preemptAt_;
        }
        if (a.priority >= cfg_.priority) preemptAt_.reset();
        if (!mayPreempt) {
            if (cfg_.version == 3) masterAdverInterval_ = a.interval;
            deadline_ = now + masterDownInterval();
            wantMaster_ = false;
            nextReason_ = MasterReason::MasterNoResponse;
        } else {
            // a lower priority master; we let our Master_Down_Timer run out and preempt it
            nextReason_ = MasterReason::Preempted;
        }
        return out;
    }
    if (state_ == State::Master) {
        if (a.priority == 0) {
            out.push_back({Action::Kind::SendAdvert, cfg_.priority});
            deadline_ = now + cfg_.advertInterval;
            // another router left MASTER while we are master (there were two: a partition, a dead
            // link): the clients that followed it come back when we announce
            if (!lastLowerReply_ || now - *lastLowerReply_ >= cfg_.advertInterval) {
                lastLowerReply_ = now;
                out.push_back({Action::Kind::Announce, 0});
            }
            return out;
        }
        if (a.priority > cfg_.priority || (a.priority == cfg_.priority && (self ? *self : cfg_.primary) < src)) {
            if (cfg_.version == 3) masterAdverInterval_ = a.interval;
            // After a partition: one advert at our own priority tells the winner there were two
            // masters, so it announces the addresses again (clients that learned our MAC meanwhile
            // follow at once instead of when their ARP entry expires).
            if (cfg_.advertOnYield) out.push_back({Action::Kind::SendAdvert, cfg_.priority});
            becomeBackup(out, now);
            return out;
        }
        // A lower priority router thinks it is master (a partition healed): tell it at once (unless
        // lower_prio_no_advert), and announce the addresses again for the clients that followed it
        // (the Instance: garp lower_prio_repeat, notify_master_rx_lower_pri); once per interval at
        // most, so a flood of such adverts is not answered by a flood.
        if (!lastLowerReply_ || now - *lastLowerReply_ >= cfg_.advertInterval) {
            lastLowerReply_ = now;
            if (cfg_.replyToLower) {
                out.push_back({Action::Kind::SendAdvert, cfg_.priority});
                deadline_ = now + cfg_.advertInterval;
            }
            out.push_back({Action::Kind::Announce, a.priority});
        }
    }
    return out;
}

std::vector<Action> StateMachine::forceMaster(TimePoint now) {
    std::vector<Action> out;
    if (state_ == State::Backup && !(notBefore_ && now < *notBefore_)) becomeMaster(out, now);
    return out;
}

std::vector<Action> StateMachine::forceBackup(TimePoint now) {
    std::vector<Action> out;
    if (state_ != State::Master) return out;
    out.push_back({Action::Kind::SendAdvert, 0});
    becomeBackup(out, now);
    return out;
}

std::vector<Action> StateMachine::onFault(bool failed, TimePoint now) {
    std::vector<Action> out;
    if (failed) {
        if (state_ == State::Fault) return out;
        if (state_ == State::Master) {
            // as keepalived entering FAULT: a priority 0 advert, so a backup takes over after its
            // skew time, not the master-down interval (it is lost when the fault is our own link)
            out.push_back({Action::Kind::SendAdvert, 0});
            out.push_back({Action::Kind::ReleaseAddresses});
        }
        state_ = State::Fault;
        deadline_.reset();
        out.push_back({Action::Kind::Transition, 0, State::Fault});
        return out;
    }
    if (state_ != State::Fault) return out;
    state_ = State::Init;
    return startup(now);
}

}  // namespace vrrp
