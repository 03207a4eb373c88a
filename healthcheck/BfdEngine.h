// BFD sessions on a loop (keepalived's bfd_instance) and the BFD check (BFD_CHECK) that follows
// one. One BfdEngine per loop, shared by every check naming a session: per family one socket on
// port 3784 (4784 for multihop) receives every session's packets, with the TTL / hop limit and the
// destination address from ancillary data (RFC 5881 5's TTL 255 check, keepalived's max_hops);
// each session sends from a socket of its own, from a port in 49152-65535 that stays the same for
// the session's life (RFC 5881 4), with TTL 255. A packet is matched to its session by Your
// Discriminator, or by the neighbor's address while that is 0 (RFC 5880 6.8.6); what fails a
// check is dropped and counted by reason (bfd::Drop). Port 3784 is privileged: the lvs worker keeps
// CAP_NET_BIND_SERVICE when the config has BFD checks.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "healthcheck/Bfd.h"
#include "healthcheck/Probe.h"

namespace healthcheck {

// One bfd_instance as the engine runs it.
struct BfdPeer {
    std::string name;
    asio::ip::address neighbor;
    std::optional<asio::ip::address> source;  // the address sent from (and the only one accepted on)
    bfd::Params params;
    int ttl = 255;      // TTL / hop limit sent
    int maxHops = 0;    // a packet counts when its TTL + max_hops >= ttl; -1: any TTL
    bool multihop = false;
    bool operator==(const BfdPeer&) const = default;
};

class BfdEngine : public std::enable_shared_from_this<BfdEngine> {
public:
    using Listener = std::function<void(bfd::State state, bfd::Diag diag)>;
    // The loop's engine (made on first use, gone with its last user).
    static std::shared_ptr<BfdEngine> shared(asio::io_context& io);
    // The loop's engine if one runs (status: no engine is made to be looked at).
    static std::shared_ptr<BfdEngine> existing(asio::io_context& io);
    explicit BfdEngine(asio::io_context& io);
    ~BfdEngine();

    // Joins `peer`'s session (started by its first subscriber; stopped, with an AdminDown packet to
    // the neighbor, after its last); `fn` hears each state change from the loop. Returns the
    // subscription's id, or 0 with `why` (no socket, port 3784 not ours, a different session
    // already has this neighbor).
    int subscribe(const BfdPeer& peer, Listener fn, std::string& why);
    void unsubscribe(int id);
    std::optional<bfd::State> state(const std::string& name) const;

    struct View {
        std::string name;
        std::string neighbor;
        bfd::State state, remoteState;
        bfd::Diag diag;
        std::uint32_t localDisc, remoteDisc;
        std::chrono::microseconds txInterval, detectTime;
        std::uint64_t transitions, sent, received;
    };
    std::vector<View> sessions() const;
    using Drops = std::array<std::uint64_t, static_cast<std::size_t>(bfd::Drop::Count)>;
    const Drops& drops() const { return drops_; }

    // Feeds one datagram as the receive path does (tests; the fuzzer).
    void deliver(std::span<const std::uint8_t> datagram, const asio::ip::address& from,
                 const std::optional<asio::ip::address>& to, int ttl, bool multihop);

private:
    struct Live;
    struct Receiver;
    bool openReceiver(bool v4, bool multihop, std::string& why);
    void receive(Receiver& r);
    void arm(Live& s);
    void send(Live& s);
    void changed(Live& s);
    std::uint32_t newDiscriminator();

    asio::io_context& io_;
    std::map<std::string, std::unique_ptr<Live>> sessions_;  // by name
    std::map<int, std::string> byId_;
    std::vector<std::unique_ptr<Receiver>> receivers_;
    int nextId_ = 1;
    Drops drops_{};
    std::minstd_rand rng_;  // jitter and source ports
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// BFD_CHECK: up while the named session is Up. The first run reports when the session comes up,
// or down when it has not within its start-up allowance (multiplier x the idle interval, as a
// detection time would be); each later run reports the next change (no timer polls).
class BfdProbe : public Probe {
public:
    BfdProbe(asio::io_context& io, BfdPeer peer);
    ~BfdProbe() override;
    void run(Done done) override;
    void cancel() override;

private:
    void report(bool up);
    asio::io_context& io_;
    BfdPeer peer_;
    std::shared_ptr<BfdEngine> engine_;
    int sub_ = 0;
    std::string error_;
    bfd::State state_ = bfd::State::Down;
    bfd::Diag diag_ = bfd::Diag::None;
    std::optional<bool> reported_;
    Done pending_;
    asio::steady_timer startup_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace healthcheck
