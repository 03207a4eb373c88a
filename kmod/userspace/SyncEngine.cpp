#include "kmod/userspace/SyncEngine.h"

#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "base/Log.h"
#include "kmod/userspace/PersistenceTable.h"

namespace kmod::userspace {
namespace {

constexpr auto kSendDelay = std::chrono::milliseconds(20);  // IPVS_SYNC_SEND_DELAY
constexpr size_t kMaxQueuedDatagrams = 4096;

std::string describe(const sync::Endpoint& e) {
    return e.interface + " (group " + (e.group.isV6() ? "[" + e.group.str() + "]" : e.group.str()) + ":" +
           std::to_string(e.port) + ", sync id " + std::to_string(e.syncId) + ", maxlen " + std::to_string(e.maxLen) +
           (e.master ? ", ttl " + std::to_string(e.ttl) : "") + ")";
}

SyncDaemon toDaemon(const sync::Endpoint& e, const SyncLimits* limits = nullptr) {
    SyncDaemon d;
    d.state = e.master ? SyncDaemon::kMaster : SyncDaemon::kBackup;
    d.interface = e.interface;
    d.syncId = e.syncId;
    d.maxLen = e.maxLen;
    d.group = e.group;
    d.port = e.port;
    d.ttl = e.ttl;
    d.peers = e.peers;
    if (limits) d.limits = *limits;
    return d;
}

}  // namespace

SyncEngine::SyncEngine(std::shared_ptr<SyncOutbox> outbox, std::shared_ptr<SyncedConns> synced)
    : outbox_(std::move(outbox)), synced_(std::move(synced)), work_(asio::make_work_guard(io_)), sweepTimer_(io_) {
    thread_ = std::thread([this] {
        try {
            io_.run();
        } catch (const std::exception& e) {
            base::log::error("sync: the sync thread stopped: ", e.what());
        }
    });
    asio::post(io_, [this] { sweep(); });
}

SyncEngine::~SyncEngine() {
    outbox_->setMaster(false);
    outbox_->onFirst(nullptr);
    asio::post(io_, [this] {
        if (master_) flush();
        master_.reset();
        backup_.reset();
        sweepTimer_.cancel();
        work_.reset();
        io_.stop();
    });
    thread_.join();
}

template <class Fn>
auto SyncEngine::onThread(Fn fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::packaged_task<R()> task(std::move(fn));
    auto f = task.get_future();
    asio::post(io_, [&task] { task(); });
    return f.get();
}

std::error_code SyncEngine::start(const SyncDaemon& d) {
    if (d.state != SyncDaemon::kMaster && d.state != SyncDaemon::kBackup) return base::errnoCode(EINVAL);
    const bool master = d.state == SyncDaemon::kMaster;
    auto e = sync::resolve(master, d.interface, d.syncId, d.maxLen, d.group, d.port, d.ttl);
    if (!e) return e.error();  // ENODEV before EEXIST, as the kernel checks
    sync::Endpoint endpoint = *e;
    if (!master) endpoint.peers = d.peers;
    return onThread([&]() -> std::error_code {
        if (master ? master_ != nullptr : backup_ != nullptr) return base::errnoCode(EEXIST);
        auto fd = master ? sync::openSender(endpoint) : sync::openReceiver(endpoint);
        if (!fd) return fd.error();
        if (master) {
            master_ = std::make_unique<Master>(io_, endpoint, *fd);
            outbox_->onFirst([this] { asio::post(io_, [this] { drain(); }); });
            outbox_->setMaster(true);
            if (!backup_) {
                // These connections ended with the old master (this plane terminates TCP); the
                // UDP flows stay, for their clients' next datagrams.
                if (const size_t n = synced_->dropStreams())
                    base::log::info("sync: dropped ", n,
                                    " synced TCP/SCTP connections (they ended with the old master)");
            }
            base::log::info("sync: master daemon started on ", describe(endpoint));
            sendAllTemplates();
        } else {
            backup_ = std::make_unique<Backup>(io_, endpoint, d.limits, *fd);
            synced_->budget()->setLimits(d.limits);
            std::string peers;
            for (const auto& p : endpoint.peers) peers += (peers.empty() ? "" : ", ") + p.str();
            base::log::info("sync: backup daemon started on ", describe(endpoint), ", hearing ",
                            peers.empty() ? std::string("any sender") : "only " + peers, "; at most ",
                            d.limits.maxConnections, " connections and ", d.limits.maxTemplates, " templates, ",
                            d.limits.maxPerSource, " of each from one sender");
            readLoop();
        }
        return {};
    });
}

std::error_code SyncEngine::stop(std::uint32_t state) {
    if (state != SyncDaemon::kMaster && state != SyncDaemon::kBackup) return base::errnoCode(EINVAL);
    return onThread([&]() -> std::error_code {
        if (state == SyncDaemon::kMaster) {
            if (!master_) return base::errnoCode(ESRCH);
            outbox_->setMaster(false);
            drain();  // what the threads queued before the switch still goes out
            flush();
            base::log::info("sync: master daemon stopped on ", master_->endpoint.interface);
            master_.reset();
        } else {
            if (!backup_) return base::errnoCode(ESRCH);
            base::log::info("sync: backup daemon stopped on ", backup_->endpoint.interface);
            backup_.reset();
        }
        return {};
    });
}

std::vector<SyncDaemon> SyncEngine::daemons() {
    return onThread([this] {
        std::vector<SyncDaemon> out;
        if (master_) out.push_back(toDaemon(master_->endpoint));
        if (backup_) out.push_back(toDaemon(backup_->endpoint, &backup_->limits));
        return out;
    });
}

SyncStatus SyncEngine::status() {
    return onThread([this] {
        SyncStatus s = stats_;
        s.queueDrops += outbox_->dropped();
        for (size_t i = 0; i < drops_.size(); ++i)
            if (drops_[i]) s.drops[sync::syncDropKey(static_cast<sync::SyncDrop>(i))] = drops_[i];
        for (const auto& [key, n] : refusals_) s.drops[key] = n;
        s.syncedConnections = static_cast<std::uint32_t>(synced_->size());
        return s;
    });
}

void SyncEngine::setSnapshot(std::shared_ptr<const Snapshot> s) {
    asio::post(io_, [this, s = std::move(s)]() mutable { snapshot_ = std::move(s); });
}

// Master: entries from the threads into datagrams.
void SyncEngine::drain() {
    auto items = outbox_->drain();
    if (!master_) return;
    for (auto& item : items) {
        if (master_->encoder.empty()) master_->oldest = item.queued;
        if (!master_->encoder.add(item.conn)) {
            flush();
            master_->oldest = item.queued;
            master_->encoder.add(item.conn);
        }
    }
    if (!master_->encoder.empty() && !master_->flushArmed) {
        master_->flushArmed = true;
        master_->flushTimer.expires_after(kSendDelay);
        master_->flushTimer.async_wait([this](const boost::system::error_code& ec) {
            if (ec || !master_) return;
            master_->flushArmed = false;
            flush();
        });
    }
}

void SyncEngine::flush() {
    if (!master_ || master_->encoder.empty()) return;
    const size_t entries = master_->encoder.count();
    stats_.entriesSent += entries;
    const auto lag = SyncOutbox::Clock::now() - master_->oldest;
    stats_.lastLagMs = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(lag).count());
    sendDatagram(master_->encoder.take());
}

void SyncEngine::sendDatagram(std::vector<std::uint8_t> d) {
    Master& m = *master_;
    if (!m.queued.empty()) {
        if (m.queued.size() >= kMaxQueuedDatagrams) {
            ++stats_.queueDrops;
            return;
        }
        m.queued.push_back(std::move(d));
        return;
    }
    const ssize_t n = ::send(m.socket.native_handle(), d.data(), d.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
        ++stats_.messagesSent;
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        m.queued.push_back(std::move(d));
        writeQueued();
        return;
    }
    ++stats_.sendErrors;
    if (stats_.sendErrors - lastErrorLog_ >= 1000 || lastErrorLog_ == 0) {
        lastErrorLog_ = stats_.sendErrors;
        base::log::warning("sync: cannot send on ", m.endpoint.interface, ": ", std::strerror(errno), " (",
                           stats_.sendErrors, " send errors so far); the backup misses these updates");
    }
}

void SyncEngine::writeQueued() {
    Master& m = *master_;
    if (m.writeArmed) return;
    m.writeArmed = true;
    m.socket.async_wait(asio::posix::descriptor_base::wait_write, [this](const boost::system::error_code& ec) {
        if (ec || !master_) return;
        Master& mm = *master_;
        mm.writeArmed = false;
        while (!mm.queued.empty()) {
            auto& d = mm.queued.front();
            const ssize_t n = ::send(mm.socket.native_handle(), d.data(), d.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return writeQueued();
            if (n < 0) ++stats_.sendErrors;
            else ++stats_.messagesSent;
            mm.queued.pop_front();
        }
    });
}

void SyncEngine::sendAllTemplates() {
    if (!snapshot_ || !master_) return;
    const auto now = PersistenceTable::Clock::now();
    size_t n = 0;
    for (const auto& service : snapshot_->services) {
        const auto& key = service.first;  // named, for the lambda (clang-14)
        const auto& svc = service.second;
        if (!svc->persistence) continue;
        svc->persistence->forEach(
            now, [&](const base::IpAddress& net, const DestKey& dest, std::uint32_t left, std::uint16_t state) {
                if (left == 0) return;
                const auto entry = templateEntry(key, net, dest, left, state);
                if (master_->encoder.empty()) master_->oldest = now;
                if (!master_->encoder.add(entry)) {
                    flush();
                    master_->oldest = now;
                    master_->encoder.add(entry);
                }
                ++n;
            });
    }
    flush();
    if (n) base::log::info("sync: sent all ", n, " persistence templates to the backup");
}

// Backup: datagrams from the group.
void SyncEngine::readLoop() {
    if (!backup_) return;
    backup_->socket.async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec || !backup_) return;
        for (int i = 0; i < 64 && backup_; ++i) {
            sync::Arrival from;
            const long n = sync::receiveOne(backup_->socket.native_handle(), buffer_.data(), buffer_.size(), from);
            if (n < 0) break;
            ++stats_.messagesReceived;
            auto d = sync::accept(buffer_.data(), buffer_.size(), n, from, backup_->endpoint, drops_);
            if (!d) continue;
            const auto now = SyncOutbox::Clock::now();
            for (const auto& c : d->conns) {
                ++stats_.entriesReceived;
                install(c, now, from.source);
            }
        }
        readLoop();
    });
}

// ip_vs_proc_conn with this plane's table: the service by fwmark, by address and port, then the
// port-zero one; the destination by address and port (by address alone for a fwmark service
// that does not masquerade, as ip_vs_find_dest).
void SyncEngine::refuse(SyncBudget::Refusal why, bool templ) {
    const std::string key = std::string(templ ? "template" : "connection") +
                            (why == SyncBudget::Refusal::Total ? "s_over_cap" : "s_over_source_cap");
    const std::uint64_t n = ++refusals_[key];
    if (n == 1 || n % 100000 == 0)
        base::log::warning("sync: refused a synced ", templ ? "template" : "connection", ": ",
                           why == SyncBudget::Refusal::Total ? "the backup holds its maximum in all"
                                                             : "its sender holds its maximum",
                           " (", n, " so far; global.sync_daemon.max_", templ ? "templates" : "connections",
                           " / max_per_source; a flood from the sync link looks like this)");
}

// The seconds a synced connection lives at most: this plane's own timeout for its protocol and
// state (a message may state up to 2^32 s).
std::uint32_t SyncEngine::clampedTimeout(const sync::SyncConn& c) const {
    const std::uint32_t udp = snapshot_ ? snapshot_->udpTimeout : 300;
    const std::uint32_t tcp = snapshot_ ? snapshot_->tcpTimeout : 900;
    const std::uint32_t fin = snapshot_ ? snapshot_->tcpFinTimeout : 120;
    std::uint32_t cap;
    if (c.protocol == 17) cap = udp;
    else if (c.protocol == 6) cap = c.state == sync::kTcpEstablished ? tcp : std::max<std::uint32_t>(fin, 120);
    else cap = c.state == 8 /* SCTP ESTABLISHED */ ? tcp : std::max<std::uint32_t>(fin, 120);
    const std::uint32_t stated = c.timeout ? c.timeout : cap;
    return std::min(stated, cap);
}

void SyncEngine::install(const sync::SyncConn& c, SyncOutbox::Clock::time_point now, const base::IpAddress& source) {
    std::shared_ptr<const SnapshotService> svc;
    if (snapshot_) {
        auto find = [&](const ServiceKey& k) {
            auto it = snapshot_->services.find(k);
            if (it != snapshot_->services.end()) svc = it->second;
            return svc != nullptr;
        };
        if (!(c.fwmark && find(ServiceKey::mark(c.family, c.fwmark))))
            if (!find(ServiceKey::inet(c.vaddr, c.protocol, c.vport))) find(ServiceKey::inet(c.vaddr, c.protocol, 0));
    }
    const SnapshotDest* dest = nullptr;
    if (svc) {
        for (const auto& d : svc->dests)
            if (d.dest.key.address == c.daddr && d.dest.key.port == c.dport) dest = &d;
        if (!dest && c.fwmark && (c.flags & sync::kFwdMask) != sync::kFwdMasq)
            for (const auto& d : svc->dests)
                if (d.dest.key.address == c.daddr) dest = &d;
    }
    if (c.flags & sync::kTemplate) {
        if (!dest || !svc->persistence) {
            ++stats_.unbound;
            return;
        }
        // the kernel's default for templates; at most the service's own timeout (or the 60 s a held
        // template is extended by), whatever the message says
        const auto own = static_cast<std::uint32_t>(
            std::max(svc->persistence->timeout(), PersistenceTable::kHeldExtension).count());
        const std::uint32_t timeout = std::min(c.timeout ? c.timeout : 180, own);
        const PersistenceTable::SyncedFrom from{source, synced_->budget()};
        const auto r = svc->persistence->install(c.caddr, dest->dest.key,
                                                 c.state ? PersistenceTable::kAssured : PersistenceTable::kNone,
                                                 now + std::chrono::seconds(timeout), &from);
        if (r.refused != SyncBudget::Refusal::None) return refuse(r.refused, true);
        if (r.newTemplate) dest->counters->persistent.fetch_add(1, std::memory_order_relaxed);
        if (r.replaced)
            for (const auto& d : svc->dests)
                if (d.dest.key == *r.replaced) d.counters->persistent.fetch_sub(1, std::memory_order_relaxed);
        ++stats_.templatesInstalled;
        return;
    }
    const auto what = synced_->apply(c, dest ? dest->counters : nullptr, now, source, clampedTimeout(c));
    if (what == SyncedConns::Applied::RefusedTotal) return refuse(SyncBudget::Refusal::Total, false);
    if (what == SyncedConns::Applied::RefusedPerSource) return refuse(SyncBudget::Refusal::PerSource, false);
    if (what == SyncedConns::Applied::Stale) {
        ++stats_.stale;
        return;
    }
    if (!dest) ++stats_.unbound;
    ++stats_.connectionsInstalled;
}

// A pass over the synced connections each second, a chunk at a time: each step holds the table's
// lock for a few microseconds (the forwarding threads take it to hand a UDP flow over), and
// datagrams are read between steps.
void SyncEngine::sweep() {
    if (!synced_->sweepStep(SyncOutbox::Clock::now())) {
        asio::post(io_, [this] { sweep(); });
        return;
    }
    sweepTimer_.expires_after(std::chrono::seconds(1));
    sweepTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) sweep();
    });
}

}  // namespace kmod::userspace
