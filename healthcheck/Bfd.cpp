#include "healthcheck/Bfd.h"

#include <algorithm>

namespace healthcheck::bfd {

const char* name(State s) {
    switch (s) {
    case State::AdminDown: return "AdminDown";
    case State::Down: return "Down";
    case State::Init: return "Init";
    case State::Up: return "Up";
    }
    return "?";
}

const char* name(Diag d) {
    switch (d) {
    case Diag::None: return "no diagnostic";
    case Diag::Expired: return "control detection time expired";
    case Diag::EchoFailed: return "echo function failed";
    case Diag::NeighborDown: return "neighbor signaled session down";
    case Diag::ForwardingReset: return "forwarding plane reset";
    case Diag::PathDown: return "path down";
    case Diag::ConcatPathDown: return "concatenated path down";
    case Diag::AdminDown: return "administratively down";
    case Diag::ReverseConcatPathDown: return "reverse concatenated path down";
    }
    return "unknown diagnostic";
}

const char* name(Drop d) {
    switch (d) {
    case Drop::None: return "none";
    case Drop::Short: return "short";
    case Drop::Version: return "version";
    case Drop::Length: return "length";
    case Drop::DetectMult: return "detect_mult";
    case Drop::Multipoint: return "multipoint";
    case Drop::MyDiscZero: return "my_disc_zero";
    case Drop::YourDiscZero: return "your_disc_zero";
    case Drop::Auth: return "auth";
    case Drop::NoSession: return "no_session";
    case Drop::Ttl: return "ttl";
    case Drop::Count: break;
    }
    return "?";
}

namespace {

void put32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::uint32_t wire(microseconds v) {
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(v.count(), 0, UINT32_MAX));
}

}  // namespace

std::array<std::uint8_t, kPacketSize> encode(const Packet& p) {
    std::array<std::uint8_t, kPacketSize> b{};
    b[0] = static_cast<std::uint8_t>((1u << 5) | (static_cast<unsigned>(p.diag) & 0x1f));
    b[1] = static_cast<std::uint8_t>((static_cast<unsigned>(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) |
                                     (p.cpi ? 0x08 : 0) | (p.auth ? 0x04 : 0) | (p.demand ? 0x02 : 0) |
                                     (p.multipoint ? 0x01 : 0));
    b[2] = p.detectMult;
    b[3] = static_cast<std::uint8_t>(kPacketSize);
    put32(&b[4], p.myDisc);
    put32(&b[8], p.yourDisc);
    put32(&b[12], p.desiredMinTx);
    put32(&b[16], p.requiredMinRx);
    put32(&b[20], p.requiredMinEchoRx);
    return b;
}

Drop decode(std::span<const std::uint8_t> d, Packet& out) {
    if (d.size() < kPacketSize) return Drop::Short;
    if ((d[0] >> 5) != 1) return Drop::Version;
    Packet p;
    p.diag = static_cast<Diag>(d[0] & 0x1f);
    p.state = static_cast<State>(d[1] >> 6);
    p.poll = d[1] & 0x20;
    p.final = d[1] & 0x10;
    p.cpi = d[1] & 0x08;
    p.auth = d[1] & 0x04;
    p.demand = d[1] & 0x02;
    p.multipoint = d[1] & 0x01;
    p.detectMult = d[2];
    const std::size_t length = d[3];
    if (length < (p.auth ? kPacketSize + 2 : kPacketSize) || length > d.size()) return Drop::Length;
    if (p.detectMult == 0) return Drop::DetectMult;
    if (p.multipoint) return Drop::Multipoint;
    p.myDisc = get32(&d[4]);
    p.yourDisc = get32(&d[8]);
    if (p.myDisc == 0) return Drop::MyDiscZero;
    if (p.yourDisc == 0 && p.state != State::Down && p.state != State::AdminDown) return Drop::YourDiscZero;
    if (p.auth) return Drop::Auth;
    p.desiredMinTx = get32(&d[12]);
    p.requiredMinRx = get32(&d[16]);
    p.requiredMinEchoRx = get32(&d[20]);
    out = p;
    return Drop::None;
}

Session::Session(Params p, std::uint32_t localDisc)
    : params_(p), localDisc_(localDisc), desiredTx_(p.idleTx), txUsed_(p.idleTx) {}

bool Session::setState(State s, Diag d) {
    if (s == state_) return false;
    state_ = s;
    diag_ = (s == State::Up || s == State::Init) ? Diag::None : d;
    ++transitions_;
    setDesiredTx(s == State::Up ? params_.minTx : params_.idleTx);
    nextTx_ = Clock::time_point{};  // tell the peer now, not an interval later
    return true;
}

void Session::setDesiredTx(microseconds want) {
    if (want == desiredTx_) return;
    const bool increase = want > desiredTx_;
    desiredTx_ = want;
    // RFC 5880 6.8.3: a slower rate while Up waits for the poll's end; a faster one, or any change
    // while not Up, applies at once
    if (!increase || state_ != State::Up) txUsed_ = want;
    polling_ = true;
}

bool Session::receive(const Packet& p, Clock::time_point now) {
    heard_ = true;
    lastRx_ = now;
    remoteDisc_ = p.myDisc;
    remoteState_ = p.state;
    remoteMinRx_ = microseconds(p.requiredMinRx);
    remoteDesiredTx_ = microseconds(p.desiredMinTx);
    remoteMult_ = p.detectMult;
    if (p.final && polling_) {
        polling_ = false;
        txUsed_ = desiredTx_;
    }
    if (p.poll) owesFinal_ = true;
    if (state_ == State::AdminDown) return false;
    if (p.state == State::AdminDown) return state_ != State::Down && setState(State::Down, Diag::NeighborDown);
    switch (state_) {
    case State::Down:
        if (p.state == State::Down) return setState(State::Init, Diag::None);
        if (p.state == State::Init) return setState(State::Up, Diag::None);
        return false;
    case State::Init:
        if (p.state == State::Init || p.state == State::Up) return setState(State::Up, Diag::None);
        return false;
    case State::Up:
        if (p.state == State::Down) return setState(State::Down, Diag::NeighborDown);
        return false;
    case State::AdminDown: break;
    }
    return false;
}

bool Session::expire(Clock::time_point now) {
    const auto deadline = detectDeadline();
    if (!deadline || now < *deadline) return false;
    // RFC 5880 6.8.1: the remote discriminator is forgotten when the detection time passes
    remoteDisc_ = 0;
    remoteState_ = State::Down;
    lastRx_.reset();
    if (state_ == State::Init || state_ == State::Up) return setState(State::Down, Diag::Expired);
    return false;
}

void Session::adminDown() {
    setState(State::AdminDown, Diag::AdminDown);
    polling_ = false;
}

microseconds Session::detectTime() const {
    return std::max(params_.minRx, remoteDesiredTx_) * remoteMult_;  // 0 until the peer has spoken
}

microseconds Session::txInterval() const { return std::max(txUsed_, remoteMinRx_); }

std::optional<Clock::time_point> Session::detectDeadline() const {
    if (!lastRx_ || (state_ == State::Down && remoteDisc_ == 0) || state_ == State::AdminDown) return std::nullopt;
    return *lastRx_ + detectTime();
}

std::optional<Clock::time_point> Session::nextTransmit() const {
    if (owesFinal_) return Clock::time_point{};
    if (params_.passive && !heard_) return std::nullopt;
    if (remoteMinRx_.count() == 0) return std::nullopt;  // RFC 5880 6.8.7: the peer wants none
    return nextTx_.value_or(Clock::time_point{});
}

Packet Session::transmit(Clock::time_point now, double jitter) {
    Packet p;
    p.diag = diag_;
    p.state = state_;
    p.final = owesFinal_;
    p.poll = polling_ && !owesFinal_;  // never both (RFC 5880 4.1)
    p.detectMult = params_.multiplier;
    p.myDisc = localDisc_;
    p.yourDisc = remoteDisc_;
    p.desiredMinTx = wire(desiredTx_);
    p.requiredMinRx = wire(params_.minRx);
    owesFinal_ = false;
    jitter = std::clamp(jitter, 0.0, 1.0);
    const double share = 0.75 + jitter * (params_.multiplier == 1 ? 0.15 : 0.25);
    nextTx_ = now + std::chrono::duration_cast<microseconds>(txInterval() * share);
    return p;
}

}  // namespace healthcheck::bfd
