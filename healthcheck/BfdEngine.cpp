#include "healthcheck/BfdEngine.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "base/AsioAddress.h"
#include "base/Datagram.h"
#include "base/Log.h"

namespace healthcheck {

using bfd::Clock;

struct BfdEngine::Live {
    Live(asio::io_context& io, BfdPeer p, std::uint32_t disc)
        : peer(std::move(p)), session(peer.params, disc), tx(io), txTimer(io), detectTimer(io) {}
    BfdPeer peer;
    bfd::Session session;
    asio::ip::udp::socket tx;
    asio::steady_timer txTimer, detectTimer;
    std::map<int, Listener> listeners;
    std::uint64_t sent = 0, received = 0;
};

struct BfdEngine::Receiver {
    Receiver(asio::io_context& io, bool family4, bool hops) : v4(family4), multihop(hops), sock(io) {}
    bool v4, multihop;
    asio::ip::udp::socket sock;
    std::array<std::uint8_t, 512> buf{};
};

namespace {

std::mutex enginesMutex;
std::map<asio::io_context*, std::weak_ptr<BfdEngine>> engines;  // one per loop

}  // namespace

std::shared_ptr<BfdEngine> BfdEngine::shared(asio::io_context& io) {
    std::lock_guard lock(enginesMutex);
    if (auto e = engines[&io].lock()) return e;
    auto e = std::make_shared<BfdEngine>(io);
    engines[&io] = e;
    return e;
}

std::shared_ptr<BfdEngine> BfdEngine::existing(asio::io_context& io) {
    std::lock_guard lock(enginesMutex);
    auto it = engines.find(&io);
    return it == engines.end() ? nullptr : it->second.lock();
}

BfdEngine::BfdEngine(asio::io_context& io) : io_(io), rng_(std::random_device{}()) {}

BfdEngine::~BfdEngine() {
    // tell each neighbor at once rather than letting its detection time run out
    for (auto& [key, s] : sessions_) {
        s->session.adminDown();
        send(*s);
    }
}

std::uint32_t BfdEngine::newDiscriminator() {
    for (;;) {
        const std::uint32_t d = std::random_device{}();
        if (d == 0) continue;
        bool taken = false;
        for (auto& [key, s] : sessions_) taken = taken || s->session.localDisc() == d;
        if (!taken) return d;
    }
}

namespace {

bool setInt(int fd, int level, int opt, int v) { return ::setsockopt(fd, level, opt, &v, sizeof v) == 0; }

std::uint16_t portOf(bool multihop) { return multihop ? bfd::kMultihopPort : bfd::kSingleHopPort; }

std::string peerKey(const BfdPeer& p) {
    return p.name + '|' + p.neighbor.to_string() + '|' + (p.source ? p.source->to_string() : "") + '|' +
           std::to_string(p.params.minTx.count()) + '|' + std::to_string(p.params.minRx.count()) + '|' +
           std::to_string(p.params.idleTx.count()) + '|' + std::to_string(p.params.multiplier) + '|' +
           std::to_string(p.params.passive) + '|' + std::to_string(p.ttl) + '|' + std::to_string(p.maxHops) + '|' +
           std::to_string(p.multihop);
}

}  // namespace

bool BfdEngine::openReceiver(bool v4, bool multihop, std::string& why) {
    for (auto& r : receivers_)
        if (r->v4 == v4 && r->multihop == multihop) return true;
    auto r = std::make_unique<Receiver>(io_, v4, multihop);
    boost::system::error_code ec;
    const std::uint16_t port = portOf(multihop);
    r->sock.open(v4 ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
    const int fd = ec ? -1 : r->sock.native_handle();
    const bool opts =
        fd >= 0 && setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1) &&
        (v4 ? setInt(fd, IPPROTO_IP, IP_RECVTTL, 1) && setInt(fd, IPPROTO_IP, IP_PKTINFO, 1)
            : setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) && setInt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) &&
                  setInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1));
    if (!opts) {
        why = std::string("cannot open a BFD socket: ") + std::strerror(ec ? ec.value() : errno);
        return false;
    }
    r->sock.bind(asio::ip::udp::endpoint(v4 ? asio::ip::address(asio::ip::address_v4::any())
                                            : asio::ip::address(asio::ip::address_v6::any()),
                                         port),
                 ec);
    if (ec) {
        why = "cannot listen on UDP port " + std::to_string(port) + " (" + ec.message() + ")";
        if (ec.value() == EACCES) why += ": the lvs worker needs CAP_NET_BIND_SERVICE";
        if (ec.value() == EADDRINUSE) why += ": another BFD daemon (bird, FRR's bfdd, keepalived) holds it";
        return false;
    }
    r->sock.non_blocking(true, ec);
    receive(*r);
    receivers_.push_back(std::move(r));
    return true;
}

void BfdEngine::receive(Receiver& r) {
    r.sock.async_wait(asio::socket_base::wait_read, [this, &r, alive = std::weak_ptr<int>(alive_)](
                                                        const boost::system::error_code& ec) {
        if (ec || !alive.lock()) return;
        for (int i = 0; i < 64; ++i) {
            const auto d = base::receiveDatagram(r.sock.native_handle(), r.buf);
            if (!d) break;
            if (!d->source) continue;
            std::optional<asio::ip::address> to;
            if (d->destination) to = base::toAsio(*d->destination);
            deliver(std::span<const std::uint8_t>(r.buf.data(), std::min(d->length, r.buf.size())),
                    base::toAsio(*d->source), to, d->ttl, r.multihop);
        }
        receive(r);
    });
}

void BfdEngine::deliver(std::span<const std::uint8_t> datagram, const asio::ip::address& from,
                        const std::optional<asio::ip::address>& to, int ttl, bool multihop) {
    bfd::Packet p;
    const auto why = bfd::decode(datagram, p);
    if (why != bfd::Drop::None) {
        ++drops_[static_cast<std::size_t>(why)];
        return;
    }
    Live* s = nullptr;
    for (auto& [key, l] : sessions_) {
        if (l->peer.multihop != multihop || l->peer.neighbor != from) continue;
        if (p.yourDisc ? l->session.localDisc() != p.yourDisc : (l->peer.source && to && *l->peer.source != *to))
            continue;
        s = l.get();
        break;
    }
    if (!s) {
        ++drops_[static_cast<std::size_t>(bfd::Drop::NoSession)];
        return;
    }
    // RFC 5881 5 (GTSM), as keepalived extends it: the TTL left plus max_hops reaches the TTL sent
    if (s->peer.maxHops >= 0 && ttl > 0 && ttl + s->peer.maxHops < s->peer.ttl) {
        ++drops_[static_cast<std::size_t>(bfd::Drop::Ttl)];
        return;
    }
    ++s->received;
    const bool moved = s->session.receive(p, Clock::now());
    if (moved) changed(*s);
    arm(*s);
}

void BfdEngine::changed(Live& s) {
    const auto st = s.session.state();
    const auto diag = s.session.diag();
    base::log::info("BFD ", s.peer.name, " with ", s.peer.neighbor.to_string(), ": ", bfd::name(st),
                    st == bfd::State::Up ? std::string() : std::string(" (") + bfd::name(diag) + ")");
    const auto listeners = s.listeners;  // a listener may unsubscribe
    for (const auto& [id, fn] : listeners) fn(st, diag);
}

void BfdEngine::send(Live& s) {
    const auto p = s.session.transmit(Clock::now(), std::uniform_real_distribution<double>(0, 1)(rng_));
    const auto bytes = bfd::encode(p);
    boost::system::error_code ec;
    s.tx.send(asio::buffer(bytes), 0, ec);  // a refused or unroutable send is the detection time's to judge
    if (!ec) ++s.sent;
}

void BfdEngine::arm(Live& s) {
    auto alive = std::weak_ptr<int>(alive_);
    Live* ls = &s;
    if (auto next = s.session.nextTransmit()) {
        s.txTimer.expires_at(std::max(*next, Clock::now()));
        s.txTimer.async_wait([this, ls, alive](const boost::system::error_code& ec) {
            if (ec || !alive.lock()) return;
            send(*ls);
            arm(*ls);
        });
    } else {
        s.txTimer.cancel();
    }
    if (auto deadline = s.session.detectDeadline()) {
        s.detectTimer.expires_at(*deadline);
        s.detectTimer.async_wait([this, ls, alive](const boost::system::error_code& ec) {
            if (ec || !alive.lock()) return;
            if (ls->session.expire(Clock::now())) changed(*ls);
            arm(*ls);
        });
    } else {
        s.detectTimer.cancel();
    }
}

int BfdEngine::subscribe(const BfdPeer& peer, Listener fn, std::string& why) {
    const std::string key = peerKey(peer);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
        for (auto& [k, l] : sessions_) {
            if (l->peer.name != peer.name && l->peer.neighbor == peer.neighbor && l->peer.multihop == peer.multihop &&
                l->peer.source == peer.source) {
                why = "BFD session " + l->peer.name + " already runs with " + peer.neighbor.to_string();
                return 0;
            }
        }
        const bool v4 = peer.neighbor.is_v4();
        if (!openReceiver(v4, peer.multihop, why)) return 0;
        auto live = std::make_unique<Live>(io_, peer, newDiscriminator());
        boost::system::error_code ec;
        live->tx.open(v4 ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
        if (!ec) {
            const int fd = live->tx.native_handle();
            if (!(v4 ? setInt(fd, IPPROTO_IP, IP_TTL, peer.ttl) : setInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, peer.ttl)))
                ec.assign(errno, boost::system::system_category());
        }
        if (ec) {
            why = "cannot open a BFD socket: " + ec.message();
            return 0;
        }
        // RFC 5881 4: a source port in 49152-65535, the same for the session's life
        const auto from = peer.source.value_or(v4 ? asio::ip::address(asio::ip::address_v4::any())
                                                  : asio::ip::address(asio::ip::address_v6::any()));
        const unsigned start = static_cast<unsigned>(rng_() % 16384);
        for (unsigned i = 0; i < 16384; ++i) {
            live->tx.bind(asio::ip::udp::endpoint(from, static_cast<std::uint16_t>(49152 + (start + i) % 16384)), ec);
            if (!ec || ec.value() != EADDRINUSE) break;
        }
        if (!ec) live->tx.connect(asio::ip::udp::endpoint(peer.neighbor, portOf(peer.multihop)), ec);
        if (ec) {
            why = "cannot send BFD from " + from.to_string() + " to " + peer.neighbor.to_string() + ": " + ec.message();
            return 0;
        }
        live->tx.non_blocking(true, ec);
        it = sessions_.emplace(key, std::move(live)).first;
        arm(*it->second);
    }
    const int id = nextId_++;
    it->second->listeners.emplace(id, std::move(fn));
    byId_.emplace(id, key);
    return id;
}

void BfdEngine::unsubscribe(int id) {
    auto b = byId_.find(id);
    if (b == byId_.end()) return;
    auto it = sessions_.find(b->second);
    byId_.erase(b);
    if (it == sessions_.end()) return;
    it->second->listeners.erase(id);
    if (!it->second->listeners.empty()) return;
    it->second->session.adminDown();
    send(*it->second);
    sessions_.erase(it);
}

std::optional<bfd::State> BfdEngine::state(const std::string& name) const {
    for (const auto& [key, l] : sessions_)
        if (l->peer.name == name) return l->session.state();
    return std::nullopt;
}

std::vector<BfdEngine::View> BfdEngine::sessions() const {
    std::vector<View> out;
    for (const auto& [key, l] : sessions_) {
        const auto& s = l->session;
        out.push_back(View{l->peer.name, l->peer.neighbor.to_string(), s.state(), s.remoteState(), s.diag(),
                           s.localDisc(), s.remoteDisc(), s.txInterval(), s.detectTime(), s.transitions(), l->sent,
                           l->received});
    }
    return out;
}

BfdProbe::BfdProbe(asio::io_context& io, BfdPeer peer) : io_(io), peer_(std::move(peer)), startup_(io) {}

BfdProbe::~BfdProbe() {
    if (engine_ && sub_) engine_->unsubscribe(sub_);
}

void BfdProbe::run(Done done) {
    pending_ = std::move(done);
    if (!engine_) {
        engine_ = BfdEngine::shared(io_);
        sub_ = engine_->subscribe(
            peer_,
            [this](bfd::State s, bfd::Diag d) {
                state_ = s;
                diag_ = d;
                const bool up = s == bfd::State::Up;
                // Init is not a change a check reports: it is on the way up or still down
                if (pending_ && (up || s != bfd::State::Init) && (!reported_ || up != *reported_)) report(up);
            },
            error_);
    }
    auto alive = std::weak_ptr<int>(alive_);
    if (!sub_) {
        asio::post(io_, [this, alive] {
            if (!alive.lock() || !pending_) return;
            auto fn = std::move(pending_);
            pending_ = nullptr;
            ProbeResult r = ProbeResult::fail(Failure::Error);
            r.output = error_;
            fn(r);
        });
        return;
    }
    const bool up = state_ == bfd::State::Up;
    if (reported_ ? up != *reported_ : up) {
        asio::post(io_, [this, alive, up] {
            if (alive.lock() && pending_) report(up);
        });
    } else if (!reported_) {
        // the start-up allowance: as long as a detection time at the idle rate
        startup_.expires_after(std::max(peer_.params.idleTx, peer_.params.minRx) * peer_.params.multiplier);
        startup_.async_wait([this, alive](const boost::system::error_code& ec) {
            if (ec || !alive.lock() || !pending_ || reported_) return;
            report(state_ == bfd::State::Up);
        });
    }
}

void BfdProbe::report(bool up) {
    startup_.cancel();
    reported_ = up;
    auto done = std::move(pending_);
    pending_ = nullptr;
    ProbeResult r = up ? ProbeResult::success() : ProbeResult::fail(Failure::BfdDown, static_cast<int>(diag_));
    done(r);
}

void BfdProbe::cancel() {
    pending_ = nullptr;
    startup_.cancel();
}

}  // namespace healthcheck
