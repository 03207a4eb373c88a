// One VRRP instance for real: the state machine driven by a raw socket, an Asio timer and the
// virtual addresses. Validates every received advert (TTL 255, version, VRID, authentication,
// v2 interval) and counts each drop by reason. IPv4 (v2 and v3) and IPv6 (v3).
// InstanceGroup: a sync group of instances (SyncGroup.h) that change state together.
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <memory>

#include "conf/Config.h"
#include "vrrp/Net.h"
#include "vrrp/StateMachine.h"
#include "vrrp/SyncGroup.h"

namespace vrrp {

class InstanceGroup;

class Instance {
public:
    using OnState = std::function<void(const std::string& name, State from, State to)>;
    Instance(asio::io_context& io, conf::VrrpInstance cfg, OnState onState);
    ~Instance();
    // False (after logging) when the interface or the socket cannot be set up.
    bool start();
    // Leaves cleanly: priority 0 when master, addresses released.
    void stop();
    State state() const { return machine_.state(); }
    // Tracked scripts (run by the worker): their priority shift, and whether one puts us in FAULT.
    void setScriptTracking(int delta, bool fault);
    const std::array<std::uint64_t, static_cast<size_t>(Drop::Count_)>& drops() const { return drops_; }
    std::uint64_t advertsReceived() const { return received_; }
    std::uint64_t advertsSent() const { return sent_; }
    std::uint64_t announcementsSent() const { return announced_; }  // gratuitous ARPs and unsolicited NAs
    int effectivePriority() const { return machine_.config().priority; }
    const conf::VrrpInstance& config() const { return cfg_; }
    // The last master heard from (its address), if any.
    const std::optional<base::IpAddress>& masterSeen() const { return masterSeen_; }

    // Sync groups: the group decides this instance's master and fault transitions (nullptr: alone).
    // Join before start().
    void joinGroup(InstanceGroup* g);
    StateMachine& machine() { return machine_; }
    bool ownFault() const { return linkFault_ || scriptFault_ || noSource_; }
    void run(const std::vector<Action>& actions);

private:
    void arm();
    void onPacket(const base::IpAddress& src, const base::IpAddress& dst, int ttl, std::span<const std::uint8_t> bytes,
                  std::span<const std::uint8_t> datagram);
    // VRRPv2 over IPv4 with IPsec-AH authentication (Ah.h)
    bool ah() const {
        return cfg_.version == 2 && cfg_.authType == conf::AuthType::Ah && cfg_.family == base::Family::V4;
    }
    void drop(Drop d, const base::IpAddress& src);
    void sendAdvert(std::uint8_t priority);
    void takeAddresses();
    void releaseAddresses();
    void garpBurst(int repeat);
    void refreshGarp();
    void sendNextGarp();
    void paceGarps();
    struct Announcement {
        base::IpAddress address;
        InterfaceInfo on;
    };
    std::deque<Announcement> garpQueue_;
    std::uint64_t announced_ = 0;
    // Interface tracking: the instance's own link, and track_interfaces (weight 0: FAULT when down;
    // otherwise the weight is added to the priority while down). Polled every 200 ms.
    void watchLinks();
    void checkLinks();
    std::vector<base::IpAddress> vips() const;
    int ifindexOf(const conf::VirtualAddress& v) const;

    asio::io_context& io_;
    conf::VrrpInstance cfg_;
    OnState onState_;
    StateMachine machine_;
    std::array<std::uint8_t, 8> ahKey_{};
    std::uint32_t ahSequence_ = 0;
    std::uint16_t ipId_ = 0;
    RawSocket socket_;
    VipManager vipManager_;
    asio::steady_timer timer_;
    asio::steady_timer garpTimer_;
    asio::steady_timer linkTimer_;
    asio::steady_timer refreshTimer_;
    asio::steady_timer pacer_;
    void applyTracking();
    bool faulted_ = false;
    int priorityDelta_ = 0;
    bool linkFault_ = false, scriptFault_ = false;
    bool noSource_ = false;  // IPv6: no usable link-local address (yet) to send from
    InstanceGroup* group_ = nullptr;
    std::uint64_t sent_ = 0;
    std::optional<base::IpAddress> masterSeen_;
    base::IpAddress group() const;
    std::optional<base::IpAddress> source() const;
    int linkDelta_ = 0, scriptDelta_ = 0;
    InterfaceInfo ifc_;
    std::array<std::uint64_t, static_cast<size_t>(Drop::Count_)> drops_{};
    std::uint64_t received_ = 0;
    bool running_ = false;
    State reported_ = State::Init;  // the last state announced
};

class InstanceGroup {
public:
    using OnState = std::function<void(const std::string& group, State to)>;
    InstanceGroup(std::string name, std::vector<Instance*> members, OnState onState);
    ~InstanceGroup();
    InstanceGroup(const InstanceGroup&) = delete;
    InstanceGroup& operator=(const InstanceGroup&) = delete;
    // After any event on a member: the others follow (re-entrant calls are folded into one).
    void changed();
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::vector<Instance*> members_;
    OnState onState_;
    SyncGroup logic_;
    bool busy_ = false, again_ = false;
    std::optional<State> reported_;
};

}  // namespace vrrp
