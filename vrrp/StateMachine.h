// The VRRP state machine (RFC 5798 section 6.4; RFC 3768 for v2) with no I/O: events in (startup,
// shutdown, a received advert, a timer, an interface going down or up), actions out (send an
// advert, take or release the virtual addresses, announce them, notify). One timer: the caller
// arms it for deadline() and calls onTimer() when it passes. Times in microseconds, so backups with
// different priorities never fire together.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/IpAddress.h"
#include "vrrp/Packet.h"

namespace vrrp {

using TimePoint = std::chrono::steady_clock::time_point;

enum class State { Init, Backup, Master, Fault };
const char* stateName(State s);

// Why the router last became master (VRRPv3-MIB's vrrpv3StatisticsNewMasterReason, with its
// values): the master released (it sent priority 0), we preempted a lower priority master (or own
// the addresses), or the master fell silent.
enum class MasterReason { NotMaster = 0, Priority = 1, Preempted = 2, MasterNoResponse = 3 };

struct MachineConfig {
    int version = 3;
    std::uint8_t vrid = 1;
    std::uint8_t priority = 100;  // 255: the address owner
    Micros advertInterval{1000000};
    bool preempt = true;
    Micros preemptDelay{0};   // keepalived's preempt_delay: preempt a lower priority master only this long
                              // after we first saw it (startup included)
    base::IpAddress primary;  // this router's address on the link (equal priorities: the higher wins)
    // A master that hears a lower priority master answers with an advert (and announces its
    // addresses again); keepalived's lower_prio_no_advert turns that off.
    bool replyToLower = true;
    // A master that yields to a higher priority sends one last advert first (so the winner learns
    // there were two masters); keepalived's higher_prio_send_advert, off by default there.
    bool advertOnYield = true;
};

struct Action {
    enum class Kind {
        SendAdvert,     // with the current priority (0 when leaving)
        TakeAddresses,  // add the VIPs and announce them (gratuitous ARP / unsolicited NA)
        ReleaseAddresses,
        Transition,  // `to` is the new state (notify scripts, fifo, logs)
        Announce,    // a lower-priority master (or a release) was heard: gratuitous ARPs / NAs for the
                     // addresses held; `priority` is what it advertised
    };
    Kind kind;
    std::uint8_t priority = 0;  // SendAdvert, Announce
    State to = State::Init;     // Transition
    bool operator==(const Action&) const = default;
};

class StateMachine {
public:
    explicit StateMachine(MachineConfig c) : cfg_(c), masterAdverInterval_(c.advertInterval) {}
    State state() const { return state_; }
    std::optional<TimePoint> deadline() const { return deadline_; }
    Micros masterAdverInterval() const { return masterAdverInterval_; }
    const MachineConfig& config() const { return cfg_; }
    // How many times this router became master, and why it did the last time (NotMaster: never).
    std::uint64_t masterTransitions() const { return masterTransitions_; }
    MasterReason masterReason() const { return masterReason_; }

    std::vector<Action> startup(TimePoint now);
    // A restarted worker picks up where the dead one was: MASTER (an advert at once, the addresses
    // taken again and announced; no transition, none happened) or BACKUP / FAULT (addresses
    // released: never a second owner). A MASTER whose link or address is gone resumes as BACKUP.
    std::vector<Action> resume(State was, TimePoint now);
    std::vector<Action> shutdown(TimePoint now);
    // `src`: the sender's primary address. The advert was already validated (VRID, auth, ...).
    // `self`: our address on the path it came by (an advert path's), for the equal-priority tie
    // break; none: the primary address.
    std::vector<Action> onAdvert(const Advert& a, const base::IpAddress& src, TimePoint now,
                                 const base::IpAddress* self = nullptr);
    std::vector<Action> onTimer(TimePoint now);
    // The interface (or a tracked object) failed or recovered.
    std::vector<Action> onFault(bool failed, TimePoint now);
    // Priority changed by trackers (not for the address owner).
    void setPriority(std::uint8_t p) { cfg_.priority = p; }
    // A reload that keeps the instance: priority, interval and preemption change in place. A
    // master advertises a changed priority or interval at once; the protocol decides the rest.
    std::vector<Action> reconfigure(const MachineConfig& next, TimePoint now);
    // The address the instance sends from (IPv6: its link-local address may appear after startup).
    void setPrimary(const base::IpAddress& a) { cfg_.primary = a; }
    // keepalived's vrrp_startup_delay / vrrp_delay_after_boot: until `t` the router listens as a
    // backup and does not become master (the address owner and a preempting backup included);
    // then the protocol goes on (a master heard meanwhile keeps it backup). Set before startup().
    void holdMasterUntil(TimePoint t) { notBefore_ = t; }

    // Sync groups (keepalived's vrrp_sync_group; see SyncGroup.h). A gated backup whose
    // Master_Down_Timer runs out does not become master by itself: it wants to, and the group makes
    // all its members master together once every one of them wants to (backup is preferred to
    // thrashing). Any advert that resets the timer takes the wish back.
    void setGated(bool g) { gated_ = g; }
    bool wantsMaster() const { return state_ == State::Backup && wantMaster_; }
    // Forced by the group: a backup becomes master; a master becomes backup (announcing priority 0
    // first, so the peer's members take over after their skew time, as keepalived does).
    std::vector<Action> forceMaster(TimePoint now);
    std::vector<Action> forceBackup(TimePoint now);

private:
    void becomeBackup(std::vector<Action>& out, TimePoint now);
    void becomeMaster(std::vector<Action>& out, TimePoint now);
    Micros masterDownInterval() const;
    Micros skew() const;

    MachineConfig cfg_;
    State state_ = State::Init;
    std::optional<TimePoint> deadline_;
    Micros masterAdverInterval_;
    std::optional<TimePoint> preemptAt_;  // preempt_delay running: preempt the lower priority master from then on
    bool gated_ = false;
    bool wantMaster_ = false;
    std::optional<TimePoint> lastLowerReply_;
    std::optional<TimePoint> notBefore_;  // holdMasterUntil  // the last advert+announce answering a lower priority master
    std::uint64_t masterTransitions_ = 0;
    MasterReason masterReason_ = MasterReason::NotMaster;
    MasterReason nextReason_ = MasterReason::MasterNoResponse;  // if the timer runs out now
};

}  // namespace vrrp
