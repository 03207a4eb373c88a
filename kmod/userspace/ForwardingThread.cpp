#include "kmod/userspace/ForwardingThread.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>

#include "base/AsioAddress.h"
#include "base/Log.h"
#include "kmod/userspace/Budget.h"
#include "kmod/userspace/PersistenceTable.h"
#include "kmod/userspace/Relay.h"
#include "kmod/userspace/SyncOutbox.h"
#include "kmod/userspace/SyncedConns.h"
#include "kmod/userspace/UdpForwarder.h"

namespace kmod::userspace {

namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(10);

void resetClose(int fd) {
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}
}  // namespace

ForwardingThread::ForwardingThread(int index)
    : index_(index), pipes_(std::make_unique<Relay::PipePool>()), poller_(std::make_unique<RawPoller>(io_)),
      work_(asio::make_work_guard(io_)) {}

ForwardingThread::~ForwardingThread() { stop(); }

void ForwardingThread::start() {
    if (index_ == 0) {
        sweepTimer_ = std::make_unique<asio::steady_timer>(io_);
        asio::post(io_, [this] { sweep(); });
    }
    running_ = true;
    thread_ = std::thread([this] {
        try {
            poller_->run();
        } catch (const std::exception& e) {
            base::log::error("userspace plane: forwarding thread ", index_, " stopped: ", e.what());
        }
    });
}

void ForwardingThread::sweep() {
    if (snapshot_ && ++sweeps_ % RateEstimator::kIntervalSeconds == 0)
        for (const auto& [key, svc] : snapshot_->services)
            for (const auto& d : svc->dests) d.counters->tick();
    if (snapshot_) {
        const auto now = PersistenceTable::Clock::now();
        SyncOutbox* outbox = snapshot_->sync.get();
        for (const auto& service : snapshot_->services) {
            const auto& key = service.first;  // named: lambdas cannot capture bindings before C++20 in clang-14
            const auto& svc = service.second;
            if (!svc->persistence) continue;
            svc->persistence->sweep(
                now,
                [&](const DestKey& dk) {
                    for (const auto& d : svc->dests)
                        if (d.dest.key == dk) d.counters->persistent.fetch_sub(1, std::memory_order_relaxed);
                },
                [&](const base::IpAddress& net, const DestKey& dk, std::uint16_t state) {
                    if (outbox && outbox->master())
                        outbox->push(templateEntry(
                            key, net, dk, static_cast<std::uint32_t>(PersistenceTable::kHeldExtension.count()), state));
                });
        }
    }
    sweepTimer_->expires_after(std::chrono::seconds(1));
    sweepTimer_->async_wait([this](const boost::system::error_code& ec) {
        if (!ec) sweep();
    });
}

std::uint32_t ForwardingThread::track(const asio::ip::tcp::endpoint& client, const ServiceKey& key,
                                      const DestKey& dest) {
    std::uint32_t slot;
    if (!freeLive_.empty()) {
        slot = freeLive_.back();
        freeLive_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(live_.size());
        live_.emplace_back();
    }
    Live& l = live_[slot];
    l.client = client;
    l.service = key;
    l.dest = dest;
    l.since = std::chrono::steady_clock::now();
    l.relay = nullptr;
    l.used = true;
    return slot;
}

void ForwardingThread::untrack(std::uint32_t slot) {
    live_[slot].used = false;
    live_[slot].relay = nullptr;
    freeLive_.push_back(slot);
}

namespace {

std::uint32_t persistTimeout(const PersistenceTable& t) { return static_cast<std::uint32_t>(t.timeout().count()); }

std::uint32_t secondsLeft(std::chrono::steady_clock::time_point until, std::chrono::steady_clock::time_point now) {
    if (until <= now) return 0;
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(until - now).count());
}

}  // namespace

std::vector<ConnEntry> ForwardingThread::connections() {
    auto promise = std::make_shared<std::promise<std::vector<ConnEntry>>>();
    auto future = promise->get_future();
    if (!running_) return {};
    asio::post(io_, [this, promise] {
        std::vector<ConnEntry> out;
        const auto now = std::chrono::steady_clock::now();
        auto entry = [&](const asio::ip::tcp::endpoint& client, const ServiceKey& svc, const DestKey& dest,
                         const char* state, std::uint32_t expires) {
            ConnEntry c;
            c.protocol = protocolName(svc.protocol);
            c.client = base::fromAsio(client.address());
            c.clientPort = client.port();
            c.vaddr = svc.address;
            c.vport = svc.port;
            c.daddr = dest.address;
            c.dport = dest.port;
            c.state = state;
            c.expires = expires;
            out.push_back(std::move(c));
        };
        for (const Live& l : live_) {
            if (!l.used) continue;
            if (l.relay)
                entry(l.client, l.service, l.dest, l.relay->halfClosed() ? "FIN_WAIT" : "ESTABLISHED",
                      secondsLeft(l.relay->lastActive() + l.relay->idleLimit(), now));
            else entry(l.client, l.service, l.dest, "SYN_RECV", secondsLeft(l.since + kConnectTimeout, now));
        }
        for (const Lingering& l : lingering_) entry(l.client, l.service, l.dest, "FIN_WAIT", secondsLeft(l.until, now));
        for (const auto& [key, f] : udp_) f->collect(out, now);
        promise->set_value(std::move(out));
    });
    poller_->wake();
    // a stopping thread may drop the request: wait briefly rather than forever
    if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return {};
    return future.get();
}

void ForwardingThread::linger(Lingering l) {
    lingering_.push_back(std::move(l));
    if (!lingerArmed_) armLinger();
}

void ForwardingThread::armLinger() {
    if (!lingerTimer_) lingerTimer_ = std::make_unique<asio::steady_timer>(io_);
    lingerArmed_ = true;
    lingerTimer_->expires_at(lingering_.front().until);
    lingerTimer_->async_wait([this](const boost::system::error_code& ec) {
        lingerArmed_ = false;
        if (!ec) expireLingering();
    });
}

void ForwardingThread::expireLingering() {
    const auto now = std::chrono::steady_clock::now();
    while (!lingering_.empty() && lingering_.front().until <= now) {
        Lingering l = std::move(lingering_.front());
        lingering_.pop_front();
        l.counters->inactive.fetch_sub(1, std::memory_order_relaxed);
        (*l.unbind)();
    }
    if (!lingering_.empty()) armLinger();
}

void ForwardingThread::stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
        running_ = false;
        if (sweepTimer_) sweepTimer_->cancel();
        if (lingerTimer_) lingerTimer_->cancel();
        lingering_.clear();
        for (auto& [k, l] : listeners_) {
            boost::system::error_code ignore;
            l->acceptor.close(ignore);
        }
        listeners_.clear();
        for (auto& [k, f] : udp_) f->stop();
        udp_.clear();
        schedulers_.clear();
        relays_.clear();  // closes the open connections
        poller_->stop();
        work_.reset();
        io_.stop();
    });
    poller_->wake();
    thread_.join();
}

void ForwardingThread::publish(std::shared_ptr<const Snapshot> snapshot) {
    asio::post(io_, [this, snapshot = std::move(snapshot)]() mutable { sync(std::move(snapshot)); });
    poller_->wake();
}

void ForwardingThread::sync(std::shared_ptr<const Snapshot> snapshot) {
    snapshot_ = std::move(snapshot);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        if (!snapshot_->services.contains(it->first)) {
            schedulers_.erase(it->first);
            boost::system::error_code ignore;
            it->second->acceptor.close(ignore);  // cancels its pending accept
            it = listeners_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = udp_.begin(); it != udp_.end();) {
        if (!snapshot_->services.contains(it->first)) {
            schedulers_.erase(it->first);
            it->second->stop();
            it = udp_.erase(it);
        } else {
            it->second->setTimeout(std::chrono::seconds(snapshot_->udpTimeout));
            ++it;
        }
    }
    for (const auto& [key, svc] : snapshot_->services) {
        if (key.protocol == kUdp) {
            if (!udp_.contains(key)) {
                auto f = std::make_shared<UdpForwarder>(
                    io_, key, [this, k = key](const sched::SchedPacket& p) { return place(k, p); },
                    std::chrono::seconds(snapshot_->udpTimeout), snapshot_->sync, snapshot_->budget);
                if (f->open(index_ == 0)) {
                    f->start();
                    udp_.emplace(key, f);
                }
            }
        } else if (!listeners_.contains(key) && openListener(key)) {
            accept(key);
        }
        Sched& s = schedulers_[key];
        if (!s.scheduler || s.version != svc->version) {
            std::vector<sched::SchedDest> dests;
            for (const auto& d : svc->dests) {
                sched::SchedDest sd{d.dest.key.address, d.dest.key.port, static_cast<int>(d.dest.weight), 0, 0, false};
                sd.lastWeight = d.lastWeight;
                dests.push_back(sd);
            }
            if (svc->shared) svc->shared->update(svc->version, dests);  // once for every thread
            if (!s.scheduler || s.name != svc->service.scheduler || s.flags != svc->service.flags) {
                s.scheduler =
                    sched::makeScheduler(svc->service.scheduler, svc->service.flags, static_cast<std::uint32_t>(index_ + 1));
                s.name = svc->service.scheduler;
                s.flags = svc->service.flags;
                if (s.scheduler) sched::updateOneByOne(*s.scheduler, dests);
            } else {
                s.scheduler->update(dests);
            }
            s.version = svc->version;
        }
    }
}

bool ForwardingThread::openListener(const ServiceKey& key) {
    auto listener = std::make_shared<Listener>(io_);
    asio::ip::tcp::acceptor* acc = &listener->acceptor;
    const asio::ip::tcp::endpoint ep(base::toAsio(key.address), key.port);
    boost::system::error_code ec;
    acc->open(ep.protocol(), ec);
    const int one = 1;
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    // freebind: listen before this director holds the address (VRRP moves it here later)
    if (!ec) {
        const int rc = key.address.isV4()
                           ? ::setsockopt(acc->native_handle(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one)
                           : ::setsockopt(acc->native_handle(), IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
        if (rc != 0) ec = boost::system::error_code(errno, boost::system::system_category());
    }
    // accepted connections inherit TCP_NODELAY: one setsockopt per service, not per connection
    if (!ec && ::setsockopt(acc->native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        if (index_ == 0)
            base::log::error("userspace plane: cannot listen on ", key.str(), ": ", ec.message(),
                             "; the service gets no traffic until this is fixed (another program on the port?)");
        return false;
    }
    listeners_.emplace(key, std::move(listener));
    return true;
}

// Accepts by hand: accept4() gives a non-blocking, close-on-exec socket in one call (asio's accept
// needs an ioctl after it), and every connection waiting is taken per wake-up (up to a batch, so
// one busy service does not starve the others on this thread).
void ForwardingThread::accept(const ServiceKey& key) {
    auto it = listeners_.find(key);
    if (it == listeners_.end()) return;
    std::shared_ptr<Listener> l = it->second;
    l->acceptor.async_wait(asio::socket_base::wait_read, [this, key, l](const boost::system::error_code& ec) {
        if (ec) return;  // listener closed
        for (int batch = 0; batch < 64; ++batch) {
            sockaddr_storage peer{};
            socklen_t len = sizeof peer;
            const int fd = ::accept4(l->acceptor.native_handle(), reinterpret_cast<sockaddr*>(&peer), &len,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    // Out of descriptors: say so once, and try again shortly instead of spinning.
                    static std::atomic<bool> said{false};
                    if (!said.exchange(true))
                        base::log::error(
                            "userspace plane: out of file descriptors; new connections wait in the backlog until"
                            " some close (raise LimitNOFILE)");
                    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
                    timer->async_wait([this, key, timer](const boost::system::error_code& tec) {
                        if (!tec) accept(key);
                    });
                    return;
                }
                break;  // EAGAIN: all taken
            }
            asio::ip::tcp::endpoint ep;
            std::memcpy(ep.data(), &peer, std::min<size_t>(len, ep.capacity()));
            ep.resize(len);
            onClient(key, fd, ep);
            if (!listeners_.contains(key)) return;  // the service went meanwhile
        }
        accept(key);
    });
}

std::optional<Placement> ForwardingThread::place(const ServiceKey& key, const sched::SchedPacket& p) {
    auto svcIt = snapshot_->services.find(key);
    auto schedIt = schedulers_.find(key);
    if (svcIt == snapshot_->services.end() || schedIt == schedulers_.end() || !schedIt->second.scheduler)
        return std::nullopt;
    const std::shared_ptr<const SnapshotService> svc = svcIt->second;
    std::vector<sched::SchedDest>& view = view_;  // reused: no allocation per connection
    view.clear();
    for (const auto& d : svc->dests) {
        view.push_back(sched::SchedDest{d.dest.key.address, d.dest.key.port, static_cast<int>(d.dest.weight),
                                 d.counters->active.load(std::memory_order_relaxed),
                                 d.counters->inactive.load(std::memory_order_relaxed),
                                 d.counters->overloaded.load(std::memory_order_relaxed), d.lastWeight});
    }
    std::optional<size_t> pick;
    auto indexOf = [&](const DestKey& k) -> std::optional<size_t> {
        for (size_t i = 0; i < svc->dests.size(); ++i)
            if (svc->dests[i].dest.key == k && !svc->dests[i].counters->overloaded.load(std::memory_order_relaxed))
                return i;
        return std::nullopt;
    };
    // A UDP flow the old master synced: its datagrams go where they went (a kernel connection
    // entry would take them there before any scheduling).
    if (key.protocol == kUdp && snapshot_->synced)
        if (auto d = snapshot_->synced->takeUdp(key, p.source, p.sourcePort)) pick = indexOf(*d);
    // Persistence: a client network bound to a real server goes back to it while the server is in
    // the service (even quiesced, as the kernel does by default); otherwise the scheduler picks.
    std::shared_ptr<PersistenceTable> persistence = svc->persistence;
    SyncOutbox* const outbox = snapshot_->sync.get();
    const bool syncing = outbox && outbox->master();
    base::IpAddress clientNet;
    const auto now = PersistenceTable::Clock::now();
    if (persistence) {
        const int prefix = key.address.isV4() ? __builtin_popcount(svc->service.netmask)
                                              : static_cast<int>(std::min<std::uint32_t>(svc->service.netmask, 128));
        clientNet = p.source.masked(prefix);
    }
    bool counted = false;  // the connection counts under its template already
    std::optional<DestKey> leaving;  // its template's server is gone from the service
    if (persistence && !pick) {
        bool resend = false;
        std::uint16_t state = PersistenceTable::kNone;
        const auto repeat = syncing
                                ? std::chrono::duration_cast<PersistenceTable::Clock::duration>(outbox->templateRepeat)
                                : PersistenceTable::Clock::duration::max();
        if (auto bound = persistence->use(clientNet, now, repeat, &resend, &state)) {
            pick = indexOf(*bound);
            if (!pick) {  // its server left: schedule anew
                persistence->release(clientNet, now);
                leaving = *bound;
            }
            counted = pick.has_value();
            if (pick && resend)
                outbox->push(templateEntry(key, clientNet, *bound, persistTimeout(*persistence), state));
        }
    }
    if (!pick) {
        pick = svc->shared ? svc->shared->pick(view, p) : schedIt->second.scheduler->pick(view, p);
        if (!pick) return std::nullopt;  // no destination available: as the kernel, refuse
    }
    if (persistence && !counted) {
        auto r = persistence->bind(clientNet, svc->dests[*pick].dest.key, now, leaving);
        if (r.kept) {  // another thread bound this network meanwhile: its clients stay together
            if (auto i = indexOf(*r.kept)) {
                pick = i;
                counted = true;
            } else {  // ... to a server that is leaving too: this connection's pick replaces it
                persistence->release(clientNet, now);
                r = persistence->bind(clientNet, svc->dests[*pick].dest.key, now, r.kept);
            }
        }
        if (!counted) {
            const DestKey& chosen = svc->dests[*pick].dest.key;
            if (r.newTemplate) svc->dests[*pick].counters->persistent.fetch_add(1, std::memory_order_relaxed);
            if (r.replaced)
                for (const auto& d : svc->dests)
                    if (d.dest.key == *r.replaced) d.counters->persistent.fetch_sub(1, std::memory_order_relaxed);
            if (syncing)
                outbox->push(
                    templateEntry(key, clientNet, chosen, persistTimeout(*persistence), PersistenceTable::kNone));
        }
    }
    const SnapshotDest& dest = svc->dests[*pick];
    Placement out;
    if (persistence)
        out.assure = [persistence, clientNet, sync = snapshot_->sync, key, destKey = dest.dest.key] {
            // a connection it placed is established (or answered): the kernel's assured template
            if (persistence->assure(clientNet) && sync && sync->master())
                sync->push(
                    templateEntry(key, clientNet, destKey, persistTimeout(*persistence), PersistenceTable::kAssured));
        };
    out.dest = dest.dest.key;
    out.counters = dest.counters;
    out.onePacket = key.protocol == kUdp && (svc->service.flags & kSvcOnePacket);
    const std::uint32_t upper = dest.dest.upperThreshold, lower = dest.dest.lowerThreshold;
    out.counters->conns.fetch_add(1, std::memory_order_relaxed);
    out.counters->inactive.fetch_add(1, std::memory_order_relaxed);
    out.counters->afterBind(upper);
    // Runs once when the connection ends, however it ends.
    auto counters = out.counters;
    out.unbind = std::make_shared<std::function<void()>>(
        [counters, upper, lower, persistence, clientNet, sync = snapshot_->sync, key, destKey = out.dest] {
            counters->afterUnbind(upper, lower);
            // the template's last connection ended: its expiry starts now, on the backup too
            if (!persistence) return;
            if (auto state = persistence->release(clientNet, PersistenceTable::Clock::now()))
                if (sync && sync->master())
                    sync->push(templateEntry(key, clientNet, destKey, persistTimeout(*persistence), *state));
        });
    return out;
}

void ForwardingThread::syncTcp(const Live& l, std::uint16_t state, std::chrono::seconds timeout, std::uint32_t flags) {
    SyncOutbox* const outbox = snapshot_ ? snapshot_->sync.get() : nullptr;
    if (!outbox || !outbox->master()) return;
    outbox->push(syncEntry(l.service, base::fromAsio(l.client.address()), l.client.port(), l.dest, state,
                           static_cast<std::uint32_t>(timeout.count()), flags));
}

void ForwardingThread::onClient(const ServiceKey& key, int client, const asio::ip::tcp::endpoint& peer) {
    sched::SchedPacket p;
    p.source = base::fromAsio(peer.address());
    p.sourcePort = peer.port();
    p.destination = key.address;
    // the connection's descriptors (given back when the last of its sockets and pipes is gone)
    if (!snapshot_->budget->takeTcp(p.source)) return resetClose(client);
    auto hold = std::make_shared<BudgetHold>(snapshot_->budget, p.source, true);
    auto placement = place(key, p);
    if (!placement) return resetClose(client);
    auto counters = placement->counters;
    auto unbind = placement->unbind;
    auto assure = placement->assure;
    const std::uint32_t slot = track(peer, key, placement->dest);
    const std::chrono::seconds finWait(snapshot_->tcpFinTimeout), idleTimeout(snapshot_->tcpTimeout);
    ForwardingThread* self = this;
    auto me = std::make_shared<const Relay*>(nullptr);
    auto relay = std::make_shared<Relay>(
        io_, *poller_, *pipes_, client, [counters, unbind, finWait, self, slot, hold, me](const Relay::Totals& t) {
            // released on the next loop turn: this turn's events may still name it
            asio::post(self->io_, [self, r = *me] { self->relays_.erase(r); });
            self->poller_->pollSoon();
            if (!t.connected) {  // refused, reset or timed out: the client got a reset
                counters->inactive.fetch_sub(1, std::memory_order_relaxed);
                counters->failed.fetch_add(1, std::memory_order_relaxed);
                (*unbind)();
                self->untrack(slot);
                return;
            }
            counters->active.fetch_sub(1, std::memory_order_relaxed);
            counters->inBytes.fetch_add(t.clientToServer, std::memory_order_relaxed);
            counters->outBytes.fetch_add(t.serverToClient, std::memory_order_relaxed);
            counters->inPkts.fetch_add(t.segmentsIn, std::memory_order_relaxed);
            counters->outPkts.fetch_add(t.segmentsOut, std::memory_order_relaxed);
            // As an IPVS entry after FIN: inactive for the tcpfin timeout (the scheduler counts it;
            // persistence holds).
            counters->inactive.fetch_add(1, std::memory_order_relaxed);
            const Live& l = self->live_[slot];
            self->syncTcp(l, sync::kTcpFinWait, finWait, sync::kInactive);
            self->linger({std::chrono::steady_clock::now() + finWait, counters, unbind, l.client, l.service, l.dest});
            self->untrack(slot);
        });
    *me = relay.get();
    relays_.emplace(relay.get(), relay);
    const asio::ip::tcp::endpoint target(base::toAsio(placement->dest.address), placement->dest.port);
    Relay* r = relay.get();
    relay->connect(
        target.data(), static_cast<socklen_t>(target.size()),
        std::chrono::duration_cast<std::chrono::milliseconds>(kConnectTimeout), idleTimeout, finWait,
        std::chrono::seconds(snapshot_->budget->progressTimeout()),
        [budget = snapshot_->budget] { return budget->tcpCrowded(); },
        [counters, self, slot, idleTimeout, assure, r] {
            counters->inactive.fetch_sub(1, std::memory_order_relaxed);
            counters->active.fetch_add(1, std::memory_order_relaxed);
            self->live_[slot].relay = r;
            self->syncTcp(self->live_[slot], sync::kTcpEstablished, idleTimeout, 0);
            if (assure) assure();
        });
}

}  // namespace kmod::userspace
