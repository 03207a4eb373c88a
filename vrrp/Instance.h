// One VRRP instance: the state machine (StateMachine.h) driven by a Transport, timers from a
// TimerFactory and a Host for links and addresses (Host.h): real sockets in the vrrp worker, a
// simulated LAN with the manual clock in the unit tests. Every received packet goes through
// judge() (Accept.h); every drop is counted by reason.
//   - A VIP is on the link only while the instance is MASTER: starting (or resuming) as anything
//     else removes any that are there, so a restarted worker never makes a second owner.
//   - A restarted worker resumes the instance's last role (resume): a master advertises at once.
//   - A reload that keeps VRID, interface, family and version reconfigures the instance in place
//     (priority, interval, VIPs, peers, authentication, GARP, tracking): no re-election, no flap.
// InstanceGroup: a sync group of instances (SyncGroup.h) that change state together.
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "base/Clock.h"
#include "conf/Config.h"
#include "vrrp/Accept.h"
#include "vrrp/AuthHmac.h"
#include "vrrp/Host.h"
#include "vrrp/StateMachine.h"
#include "vrrp/SyncGroup.h"

namespace vrrp {

class InstanceGroup;

// What an InstanceGroup needs of a member (an Instance; the tests' routers).
class GroupMember {
public:
    virtual ~GroupMember() = default;
    virtual StateMachine& machine() = 0;
    virtual bool ownFault() const = 0;
    virtual void run(const std::vector<Action>& actions) = 0;
    virtual void joinGroup(InstanceGroup* g) = 0;
};

class Instance : public GroupMember {
public:
    using OnState = std::function<void(const std::string& name, State from, State to)>;
    Instance(base::TimerFactory& timers, Host& host, conf::VrrpInstance cfg, OnState onState);
    ~Instance() override;
    // False (after logging) when the interface or the socket cannot be set up. `resume`: the state
    // a dead worker left it in (a restart), or nullopt for a fresh start.
    bool start(std::optional<State> resume = std::nullopt);
    // Leaves cleanly: priority 0 when master, addresses released.
    void stop();
    // The VRIDs of the router's other instances on this link and family (their adverts are ignored,
    // not counted as wrong VRIDs).
    void setSiblings(std::set<int> vrids) { siblings_ = std::move(vrids); }
    // Events that are no transition (keepalived's MASTER_RX_LOWER_PRI): the instance and the event.
    using OnEvent = std::function<void(const std::string& name, const char* event)>;
    void onEvent(OnEvent f) { onEvent_ = std::move(f); }
    // The startup delay (StateMachine::holdMasterUntil); before start().
    void holdMaster(TimePoint until) { holdUntil_ = until; }

    enum class Reload { Kept, Reconfigured, Restart };
    // Restart: the identity (VRID, interface, family, version) changed; the caller stops this
    // instance and starts a new one. Otherwise the new config is in force, state kept.
    static Reload plan(const conf::VrrpInstance& before, const conf::VrrpInstance& after);
    Reload reconfigure(const conf::VrrpInstance& next);

    State state() const { return machine_.state(); }
    // Tracked scripts (run by the worker): their priority shift, and whether one puts us in FAULT.
    void setTracking(int delta, bool fault);
    const std::array<std::uint64_t, static_cast<size_t>(Drop::Count_)>& drops() const { return drops_; }
    std::uint64_t advertsReceived() const { return received_; }
    std::uint64_t advertsSent() const { return sent_; }
    std::uint64_t announcementsSent() const { return announced_; }  // gratuitous ARPs and unsolicited NAs
    std::uint64_t masterTransitions() const { return machine_.masterTransitions(); }
    MasterReason masterReason() const { return machine_.masterReason(); }
    std::uint64_t priorityZeroSent() const { return priZeroSent_; }
    std::uint64_t priorityZeroReceived() const { return priZeroReceived_; }
    // Other hosts' ARP claims of our addresses heard as master, and the announcements that answered them.
    std::uint64_t claimsHeard() const { return claimsHeard_; }
    std::uint64_t claimsDefended() const { return defended_; }
    // The last protocol error (VRRPv3-MIB's vrrpv3StatisticsProtoErrReason: 0 none, 1 TTL,
    // 2 version, 3 checksum, 4 VRID).
    int protocolErrorReason() const { return protoErrReason_; }
    // Since when the instance is out of INIT (BACKUP or MASTER; none in INIT and FAULT).
    const std::optional<TimePoint>& upSince() const { return upSince_; }
    // The link as last seen (index, MAC, the primary addresses) and the address adverts go from.
    const InterfaceInfo& link() const { return ifc_; }
    std::optional<base::IpAddress> sourceAddress() const { return source(); }
    int effectivePriority() const { return machine_.config().priority; }
    const conf::VrrpInstance& config() const { return cfg_; }
    // The last master heard from (its address), if any.
    const std::optional<base::IpAddress>& masterSeen() const { return masterSeen_; }

    // Sync groups: the group decides this instance's master and fault transitions (nullptr: alone).
    // Join before start().
    void joinGroup(InstanceGroup* g) override;
    StateMachine& machine() override { return machine_; }
    bool ownFault() const override { return linkFault_ || trackFault_ || noSource_ || noPeer() || vmacMissing_; }
    bool noPeer() const { return cfg_.unicastFaultNoPeer && cfg_.unicastPeers.empty(); }
    void run(const std::vector<Action>& actions) override;

private:
    void arm();
    void onPacket(const Received& pkt);
    void drop(Drop d, const base::IpAddress& src);
    bool sendAdvert(std::uint8_t priority);  // whether it went out (on the main transport)
    void owedRelease(const base::IpAddress& master);
    std::optional<TimePoint> releaseOwed_;  // when a release (priority 0) could not be sent
    void repeatYield(std::uint8_t priority, int times);
    void takeAddresses();
    void heardLowerMaster();
    // announcements per address when another master is heard (garp lower_prio_repeat)
    int announceRepeat() const { return cfg_.garp.lowerPrioRepeat.value_or(cfg_.garp.masterRepeat); }
    void heardRelease();
    void settleAfterLowerMaster(int repeat);
    // ARP claims of our VIPs by other hosts (Host::watchClaims), answered as master (garp defend)
    void heardClaim(const Claim& c);
    bool outranked() const;
    std::unique_ptr<Subscription> claims_;
    std::map<base::IpAddress, std::uint8_t> routers_;  // each router heard: its last priority (> 0)
    std::deque<TimePoint> defences_;                   // our answers to claims in the last 30 s
    std::optional<TimePoint> claimLogged_;
    std::uint64_t claimsUnlogged_ = 0, claimsHeard_ = 0, defended_ = 0;
    // the advert being handled (heardLowerMaster names its sender); the last lower master logged
    std::optional<std::pair<base::IpAddress, std::uint8_t>> advertFrom_;
    std::optional<TimePoint> lowerLogged_;
    std::uint64_t lowerUnlogged_ = 0;
    OnEvent onEvent_;
    std::set<int> siblings_;
    void blockAddresses(bool master);
    bool blocking_ = false;  // no_accept rules in force for this instance
    void addRoutes();
    void removeRoutes();
    void addAddresses(const std::vector<const conf::VirtualAddress*>& which);
    void releaseAddresses();
    void removeAddresses(const std::vector<const conf::VirtualAddress*>& which);
    std::vector<const conf::VirtualAddress*> allAddresses(const conf::VrrpInstance& c) const;
    void garpBurst(int repeat, const std::vector<const conf::VirtualAddress*>& which);
    void refreshGarp();
    void sendNextGarp();
    void paceGarps();
    bool openTransport();
    // The link as the instance uses it: the interface's, or with a VMAC, the macvlan's index and
    // MAC (the VIPs and announcements go there) with the interface's addresses to send from.
    std::optional<InterfaceInfo> lookLink();
    VmacSpec vmacSpec(const InterfaceInfo& parent) const;
    bool sendsFromVmac() const { return vmac_ && !cfg_.vmac.xmitBase && cfg_.unicastPeers.empty(); }
    void checkVmac();
    std::optional<VmacSpec> vmac_;  // while the instance has its macvlan
    std::uint64_t routeDeletionsSeen_ = 0;  // Host::routeDeletions() when last looked
    int baseIndex_ = 0;             // with a VMAC: the interface's own index (adverts are received there)
    MachineConfig machineConfig() const;
    struct Announcement {
        base::IpAddress address;
        InterfaceInfo on;
    };
    std::deque<Announcement> garpQueue_;
    std::uint64_t announced_ = 0;
    // Interface tracking: the instance's own link, and track_interfaces (weight 0: FAULT when down;
    // otherwise the weight is added to the priority while down). Checked every 200 ms against the
    // Host's view (kept current from rtnetlink events: no syscall).
    void watchLinks();
    void checkLinks();
    std::vector<base::IpAddress> vips() const;
    int ifindexOf(const conf::VirtualAddress& v) const;
    TimePoint now() const { return timers_.now(); }

    base::TimerFactory& timers_;
    Host& host_;
    conf::VrrpInstance cfg_;
    OnState onState_;
    StateMachine machine_;
    std::optional<TimePoint> holdUntil_;
    std::array<std::uint8_t, 8> ahKey_{};
    std::uint32_t ahSequence_ = 0;
    std::uint16_t ipId_ = 0;
    // auth_hmac (vrrp/AuthHmac.h): the keys, what each source last sent, our own sequence
    void loadHmac();
    std::uint32_t hmacWindow() const;
    void withHmac(AcceptContext& ctx);
    void hmacAccepted(const Received& pkt, const Accepted& a, std::uint32_t window);
    std::vector<hmac::Key> hmacKeys_;
    hmac::ReplayState hmacReplay_;
    hmac::Sequence hmacSequence_;
    std::uint64_t hmacHeard_ = 0;  // accepted trailers, for the replay state's least recently heard
    bool hmacSkewSaid_ = false;
    std::unique_ptr<Transport> transport_;
    // advert_paths: each a socket of its own on its interface, the config judge() sees for it (its
    // peers), its AH sequence; what arrives on any path feeds the one state machine
    struct Path {
        conf::AdvertPath cfg;
        conf::VrrpInstance judged;
        std::unique_ptr<Transport> transport;
        std::uint32_t ahSequence = 0;
    };
    std::vector<Path> paths_;
    void openPaths();
    void closePaths();
    conf::VrrpInstance judgedFor(const conf::AdvertPath& pc) const;
    std::optional<base::IpAddress> pathSource(const Path& p) const;
    void onPathPacket(size_t index, const Received& pkt);
    std::unique_ptr<base::Timer> timer_, garpTimer_, linkTimer_, refreshTimer_, pacer_, yieldTimer_, settleTimer_;
    void applyTracking();
    bool faulted_ = false;
    int priorityDelta_ = 0;
    bool linkFault_ = false, trackFault_ = false;
    bool noSource_ = false;  // IPv6: no usable link-local address (yet) to send from
    // the VMAC cannot be made (its reason logged): FAULT, retried every kVmacRetry, until it can
    bool vmacMissing_ = false;
    base::TimePoint vmacRetryAt_{};
    InstanceGroup* group_ = nullptr;
    std::uint64_t sent_ = 0;
    std::optional<base::IpAddress> masterSeen_;
    base::IpAddress group() const;
    std::optional<base::IpAddress> source() const;
    int linkDelta_ = 0, trackDelta_ = 0;
    InterfaceInfo ifc_;
    std::array<std::uint64_t, static_cast<size_t>(Drop::Count_)> drops_{};
    std::uint64_t received_ = 0;
    std::uint64_t priZeroSent_ = 0, priZeroReceived_ = 0;
    int protoErrReason_ = 0;
    std::optional<TimePoint> upSince_;
    bool running_ = false;
    State reported_ = State::Init;  // the last state announced
};

class InstanceGroup {
public:
    using OnState = std::function<void(const std::string& group, State to)>;
    InstanceGroup(std::string name, std::vector<GroupMember*> members, OnState onState);
    ~InstanceGroup();
    InstanceGroup(const InstanceGroup&) = delete;
    InstanceGroup& operator=(const InstanceGroup&) = delete;
    // After a reload: the same group over its members as they now are (the state reported so far
    // is kept, so an unchanged group notifies nothing).
    void setMembers(std::vector<GroupMember*> members);
    // After any event on a member: the others follow (re-entrant calls are folded into one).
    void changed(TimePoint now);
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::vector<GroupMember*> members_;
    OnState onState_;
    SyncGroup logic_;
    bool busy_ = false, again_ = false;
    std::optional<State> reported_;
};

}  // namespace vrrp
