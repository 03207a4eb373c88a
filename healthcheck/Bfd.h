// BFD (RFC 5880, asynchronous mode, over RFC 5881 single-hop and RFC 5883 multihop UDP): the
// control packet's codec and one session's state machine, both pure (time is passed in), so the
// unit tests drive every transition and the fuzzer every byte. BfdEngine.h puts sessions on
// sockets and timers.
//
// What keepalived's BFD does, kept here: Down/Init/Up three-way handshake, no authentication
// (a packet with the A bit is dropped: keepalived has none either), no demand mode and no echo
// function (our Required Min Echo RX is 0), idle_tx while not Up (RFC 5880 6.8.3: not less than
// one second), a Poll Sequence whenever our intervals change, passive (RFC 5880 6.1: no packet
// until the peer's first).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

namespace healthcheck::bfd {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

enum class State : std::uint8_t { AdminDown = 0, Down = 1, Init = 2, Up = 3 };
const char* name(State s);

// RFC 5880 4.1's diagnostic codes.
enum class Diag : std::uint8_t {
    None = 0,
    Expired = 1,           // Control Detection Time Expired
    EchoFailed = 2,
    NeighborDown = 3,      // Neighbor Signaled Session Down
    ForwardingReset = 4,
    PathDown = 5,
    ConcatPathDown = 6,
    AdminDown = 7,
    ReverseConcatPathDown = 8,
};
const char* name(Diag d);  // "neighbor signaled session down"

constexpr std::uint16_t kSingleHopPort = 3784;  // RFC 5881
constexpr std::uint16_t kMultihopPort = 4784;   // RFC 5883
constexpr std::size_t kPacketSize = 24;         // the mandatory section; we send nothing more

struct Packet {
    Diag diag = Diag::None;
    State state = State::Down;
    bool poll = false, final = false, cpi = false, auth = false, demand = false, multipoint = false;
    std::uint8_t detectMult = 0;
    std::uint32_t myDisc = 0, yourDisc = 0;
    std::uint32_t desiredMinTx = 0, requiredMinRx = 0, requiredMinEchoRx = 0;  // microseconds
    bool operator==(const Packet&) const = default;
};

std::array<std::uint8_t, kPacketSize> encode(const Packet& p);

// Why a received datagram is dropped (RFC 5880 6.8.6's checks, in its order, then ours). Each is
// a counter in the status and /metrics.
enum class Drop : std::uint8_t {
    None,
    Short,        // fewer bytes than the 24 of the mandatory section
    Version,      // not version 1
    Length,       // Length < 24 (26 with auth), or more than the datagram
    DetectMult,   // Detect Mult 0
    Multipoint,   // M bit set
    MyDiscZero,   // My Discriminator 0
    YourDiscZero, // Your Discriminator 0 outside Down / AdminDown
    Auth,         // A bit: no authentication is configured (as keepalived)
    NoSession,    // no session is this packet's
    Ttl,          // single-hop: TTL / hop limit not 255 (RFC 5881 5); multihop: past max_hops
    Count,
};
const char* name(Drop d);  // a metric label: "short", "your_disc_zero", ...

// Decodes and applies the checks that need no session. Drop::None with `out` filled, or why not.
Drop decode(std::span<const std::uint8_t> datagram, Packet& out);

struct Params {
    microseconds minTx{10'000};       // keepalived's min_tx (Desired Min TX while Up), default 10 ms
    microseconds minRx{10'000};       // min_rx (Required Min RX), default 10 ms
    microseconds idleTx{1'000'000};   // idle_tx (Desired Min TX while not Up), at least 1 s
    std::uint8_t multiplier = 5;      // Detect Mult, keepalived's default
    bool passive = false;             // send nothing until the peer has spoken
    bool operator==(const Params&) const = default;
};

// One session. The engine calls receive() for each packet the demultiplexer gives it, expire()
// when detectDeadline() passes, and transmit() when nextTransmit() comes (or at once when
// replyNow() says a Final is owed). Every state change is reported by changed().
class Session {
public:
    Session(Params p, std::uint32_t localDisc);

    // A packet for this session (decode() passed, session selected). Returns true when the state
    // changed.
    bool receive(const Packet& p, Clock::time_point now);
    // The detection time passed with no packet: Init/Up fall to Down (diag Expired). True when the
    // state changed.
    bool expire(Clock::time_point now);
    // The next packet to send (with P while a Poll Sequence runs, F when one is owed), and the
    // bookkeeping of having sent it; `jitter` in [0, 1) picks the next interval (RFC 5880 6.8.7:
    // 75-100% of it, 75-90% with Detect Mult 1).
    Packet transmit(Clock::time_point now, double jitter);
    // The session stops (removed from the config, the daemon leaving): AdminDown, diag AdminDown,
    // for the packets still sent.
    void adminDown();

    State state() const { return state_; }
    Diag diag() const { return diag_; }
    State remoteState() const { return remoteState_; }
    std::uint32_t localDisc() const { return localDisc_; }
    std::uint32_t remoteDisc() const { return remoteDisc_; }
    // When the next periodic packet is due (nullopt: none, e.g. passive before the peer spoke, or
    // the peer's Required Min RX is 0).
    std::optional<Clock::time_point> nextTransmit() const;
    bool replyNow() const { return owesFinal_; }
    // When the peer is declared dead (nullopt while Down: nothing to detect).
    std::optional<Clock::time_point> detectDeadline() const;
    // The detection time in force (remote Detect Mult x max(our Required Min RX, its Desired Min TX)).
    microseconds detectTime() const;
    // The interval we transmit at (before jitter).
    microseconds txInterval() const;
    std::uint64_t transitions() const { return transitions_; }
    const Params& params() const { return params_; }

private:
    bool setState(State s, Diag d);
    void setDesiredTx(microseconds want);

    Params params_;
    State state_ = State::Down;
    Diag diag_ = Diag::None;
    State remoteState_ = State::Down;
    std::uint32_t localDisc_;
    std::uint32_t remoteDisc_ = 0;
    microseconds desiredTx_;          // what we advertise
    microseconds txUsed_;             // what we transmit at (lags an increase until the poll ends)
    microseconds remoteMinRx_{1};     // RFC 5880 6.8.1: initially 1 (send at our own pace)
    microseconds remoteDesiredTx_{0};
    std::uint8_t remoteMult_ = 0;
    bool polling_ = false;
    bool owesFinal_ = false;
    bool heard_ = false;              // a packet from the peer came (passive waits for it)
    std::optional<Clock::time_point> lastRx_;
    std::optional<Clock::time_point> nextTx_;
    std::uint64_t transitions_ = 0;
};

}  // namespace healthcheck::bfd
