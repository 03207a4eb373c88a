// One VRRP instance for real: the state machine driven by a raw socket, an Asio timer and the
// virtual addresses. Validates every received advert (TTL 255, version, VRID, authentication,
// v2 interval) and counts each drop by reason. IPv4 (v2 and v3).
#pragma once
#include <array>
#include <functional>
#include <memory>

#include "conf/Config.h"
#include "vrrp/Net.h"
#include "vrrp/StateMachine.h"

namespace vrrp {

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

private:
    void run(const std::vector<Action>& actions);
    void arm();
    void onPacket(const base::IpAddress& src, const base::IpAddress& dst, int ttl, std::span<const std::uint8_t> bytes);
    void drop(Drop d, const base::IpAddress& src);
    void sendAdvert(std::uint8_t priority);
    void takeAddresses();
    void releaseAddresses();
    void garpBurst(int repeat);
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
    RawSocket socket_;
    VipManager vipManager_;
    asio::steady_timer timer_;
    asio::steady_timer garpTimer_;
    asio::steady_timer linkTimer_;
    void applyTracking();
    bool faulted_ = false;
    int priorityDelta_ = 0;
    bool linkFault_ = false, scriptFault_ = false;
    int linkDelta_ = 0, scriptDelta_ = 0;
    InterfaceInfo ifc_;
    std::array<std::uint64_t, static_cast<size_t>(Drop::Count_)> drops_{};
    std::uint64_t received_ = 0;
    bool running_ = false;
    State reported_ = State::Init;  // the last state announced
};

}  // namespace vrrp
