// ForwardingThread: one of the userspace plane's forwarding threads. It owns an io_context, one
// SO_REUSEPORT listener per TCP virtual service (so the kernel spreads new connections over the
// threads), its own schedulers, and the relays of the connections it accepted. The control side
// hands it each new Snapshot with post(): the thread opens and closes listeners to match, and
// never waits for the control side.
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "base/Asio.h"
#include "kmod/IpvsTable.h"
#include "kmod/sched/Scheduler.h"
#include "kmod/userspace/RawPoller.h"
#include "kmod/userspace/Relay.h"
#include "kmod/userspace/Snapshot.h"

namespace kmod::userspace {

// Where the scheduler (or a persistence template) put a new connection or flow. `unbind` must
// run once when it ends; until then it counts as an inactive connection of `dest`.
struct Placement {
    DestKey dest;
    std::shared_ptr<DestCounters> counters;
    std::shared_ptr<std::function<void()>> unbind;
    bool onePacket = false;        // the service schedules each UDP datagram on its own (ipvsadm -o)
    std::function<void()> assure;  // persistent services: the connection is established / answered
};

class ForwardingThread {
public:
    explicit ForwardingThread(int index);
    ~ForwardingThread();
    void start();
    void stop();  // closes listeners and connections, joins
    // Thread-safe: the snapshot is applied on the thread.
    void publish(std::shared_ptr<const Snapshot> snapshot);
    // Thread-safe (not from this thread): this thread's connections, collected on the thread.
    std::vector<ConnEntry> connections();
    // Whether the thread's loop waits on its relay set directly (RawPoller::direct).
    bool direct() const { return poller_->direct(); }

private:
    struct Sched {
        std::uint64_t version = 0;
        std::string name;
        std::uint32_t flags = 0;
        std::unique_ptr<sched::Scheduler> scheduler;
    };
    void sync(std::shared_ptr<const Snapshot> snapshot);
    void accept(const ServiceKey& key);
    // `client`: an accepted, non-blocking socket; the thread owns it from here.
    void onClient(const ServiceKey& key, int client, const asio::ip::tcp::endpoint& peer);
    std::optional<Placement> place(const ServiceKey& key, const sched::SchedPacket& p);
    bool openListener(const ServiceKey& key);

    int index_;
    // Declared before io_: relays still queued in io_ give their pipes back when io_ is destroyed.
    std::unique_ptr<Relay::PipePool> pipes_;
    asio::io_context io_;
    std::unique_ptr<RawPoller> poller_;  // the relays' sockets (made with io_, gone before it)
    // Every relay, from its connect to the loop turn after it ends (its sockets' events may be fetched
    // in the turn it ends in); what is left at stop is closed. Declared after io_: gone first.
    std::map<const Relay*, std::shared_ptr<Relay>> relays_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    std::shared_ptr<const Snapshot> snapshot_;
    struct Listener {
        explicit Listener(asio::io_context& io) : acceptor(io) {}
        asio::ip::tcp::acceptor acceptor;
        asio::ip::tcp::endpoint peer;  // filled by accept(): no getpeername() per connection
    };
    // shared: a pending accept holds its listener, so a completed accept still queued when the
    // service goes away finds its endpoint alive (the listener is closed explicitly on removal)
    std::map<ServiceKey, std::shared_ptr<Listener>> listeners_;
    std::map<ServiceKey, std::shared_ptr<class UdpForwarder>> udp_;
    std::map<ServiceKey, Sched> schedulers_;
    std::vector<sched::SchedDest> view_;                     // place()'s scratch list of destinations
    std::unique_ptr<asio::steady_timer> sweepTimer_;  // thread 0: expires persistence templates
    void sweep();
    std::uint64_t sweeps_ = 0;
    // Closed connections counting as inactive for tcpfin, oldest first (one timer for all of them,
    // not one per connection; entries are in deadline order unless the timeout changed meanwhile).
    struct Lingering {
        std::chrono::steady_clock::time_point until;
        std::shared_ptr<DestCounters> counters;
        std::shared_ptr<std::function<void()>> unbind;
        asio::ip::tcp::endpoint client;
        ServiceKey service;
        DestKey dest;
    };
    void linger(Lingering l);
    void armLinger();
    void expireLingering();
    std::deque<Lingering> lingering_;
    std::unique_ptr<asio::steady_timer> lingerTimer_;
    bool lingerArmed_ = false;
    // Open TCP connections, for the connection listing: slots reused through a free list, so
    // tracking a connection allocates nothing once the table has grown.
    struct Live {
        asio::ip::tcp::endpoint client;
        ServiceKey service;
        DestKey dest;
        std::chrono::steady_clock::time_point since;
        const class Relay* relay = nullptr;  // null while connecting to the real server
        bool used = false;
    };
    std::uint32_t track(const asio::ip::tcp::endpoint& client, const ServiceKey& key, const DestKey& dest);
    // Tells the backup (when a master sync daemon runs) that this connection is in `state`.
    void syncTcp(const Live& l, std::uint16_t state, std::chrono::seconds timeout, std::uint32_t flags);
    void untrack(std::uint32_t slot);
    std::vector<Live> live_;
    std::vector<std::uint32_t> freeLive_;
    std::atomic<bool> running_{false};
};

}  // namespace kmod::userspace
