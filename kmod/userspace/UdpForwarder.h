// UdpForwarder: one UDP virtual service on one forwarding thread. Datagrams arrive on an
// SO_REUSEPORT/freebind socket bound to the VIP (read in batches with recvmmsg); each client
// address:port is a flow, placed once by the scheduler (and persistence) and given its own
// connected socket towards the real server. Replies come back on that socket and go to the client
// from the VIP (sent in batches with sendmmsg). A flow idle for the UDP timeout ends.
// One-packet scheduling (ipvsadm -o): every datagram is scheduled on its own and counts as one
// connection that ends at once; the socket towards its real server stays for replies.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/Asio.h"
#include "kmod/userspace/ForwardingThread.h"

namespace kmod::userspace {

class UdpForwarder : public std::enable_shared_from_this<UdpForwarder> {
public:
    using Placer = std::function<std::optional<Placement>(const sched::SchedPacket&)>;
    // `sync`: where flows go for the backup (the kernel's packet rule: SyncOutbox::packetDue).
    UdpForwarder(asio::io_context& io, ServiceKey key, Placer placer, std::chrono::seconds timeout,
                 std::shared_ptr<class SyncOutbox> sync = nullptr, std::shared_ptr<class Budget> budget = nullptr);
    ~UdpForwarder();
    // False (after logging) when the service address cannot be bound.
    bool open(bool logErrors);
    void start();
    void stop();
    void setTimeout(std::chrono::seconds t) { timeout_ = t; }
    size_t flows() const { return flows_.size() + packetFlows_.size(); }
    // The flows as connection entries (state UDP, expiring after the udp timeout without traffic).
    void collect(std::vector<ConnEntry>& out, std::chrono::steady_clock::time_point now) const;

private:
    struct Flow {
        explicit Flow(asio::io_context& io) : upstream(io) {}
        asio::ip::udp::socket upstream;
        asio::ip::udp::endpoint client;
        Placement placement;
        std::chrono::steady_clock::time_point lastSeen;
        bool closed = false;
        bool counted = true;  // holds an inactive connection (not for one-packet flows)
        std::uint64_t inPkts = 0;
        bool answered = false;  // the real server replied at least once
        std::chrono::steady_clock::time_point opened;
        std::shared_ptr<struct BudgetHold> hold;  // its descriptor in the plane's budget
    };
    void readClients();
    void readUpstream(const std::shared_ptr<Flow>& flow);
    std::shared_ptr<Flow> flowFor(const asio::ip::udp::endpoint& client);
    std::shared_ptr<Flow> openFlow(const asio::ip::udp::endpoint& client, Placement placement);
    void endFlow(const std::shared_ptr<Flow>& flow);
    void sweep();

    asio::io_context& io_;
    ServiceKey key_;
    Placer placer_;
    std::chrono::seconds timeout_;
    std::shared_ptr<SyncOutbox> sync_;
    std::shared_ptr<Budget> budget_;
    asio::ip::udp::socket socket_;
    asio::steady_timer sweepTimer_;
    std::map<asio::ip::udp::endpoint, std::shared_ptr<Flow>> flows_;
    std::map<std::pair<asio::ip::udp::endpoint, DestKey>, std::shared_ptr<Flow>> packetFlows_;  // one-packet
    bool stopped_ = false;
};

}  // namespace kmod::userspace
