#include "director/lvs/SyncManager.h"

#include <algorithm>
#include <fstream>

#include "base/Log.h"
#include "kmod/sync/SyncProtocol.h"
#include "kmod/sync/SyncSocket.h"

namespace director::lvs {
namespace {

constexpr auto kCheckEvery = std::chrono::seconds(1);
constexpr auto kStartSettle = std::chrono::milliseconds(100);

const char* stateWord(std::uint32_t s) { return s == kmod::SyncDaemon::kMaster ? "master" : "backup"; }

std::string describe(const kmod::SyncDaemon& d) {
    std::string g = d.group ? (d.group->isV6() ? "[" + d.group->str() + "]" : d.group->str()) : "224.0.0.81";
    return d.interface + " (sync id " + std::to_string(d.syncId) + ", group " + g + ":" +
           std::to_string(d.port ? d.port : 8848) + (d.maxLen ? ", maxlen " + std::to_string(d.maxLen) : "") + ")";
}

}  // namespace

struct SyncManager::Listener {
    kmod::sync::Endpoint endpoint;
    asio::posix::stream_descriptor socket;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(65536);
    Listener(asio::io_context& io, kmod::sync::Endpoint e, int fd) : endpoint(std::move(e)), socket(io, fd) {}
};

SyncManager::SyncManager(asio::io_context& io, kmod::IpvsTable& table) : io_(io), table_(table), timer_(io) {}

SyncManager::~SyncManager() = default;

// The kernel plane's listener: open while the kernel's backup daemon runs with these settings.
void SyncManager::listen(const std::vector<kmod::SyncDaemon>& running) {
    if (table_.name() != "kernel") return;
    const kmod::SyncDaemon* backup = nullptr;
    for (const auto& d : running)
        if (d.state == kmod::SyncDaemon::kBackup) backup = &d;
    if (!backup) {
        listener_.reset();
        return;
    }
    auto e = kmod::sync::resolve(false, backup->interface, backup->syncId, backup->maxLen, backup->group, backup->port,
                                 backup->ttl);
    if (!e || (listener_ && listener_->endpoint == *e)) return;
    auto fd = kmod::sync::openReceiver(*e);
    if (!fd) {
        base::log::warning("sync: cannot listen on ", e->interface,
                           " to count what the kernel's backup daemon "
                           "receives: ",
                           fd.error().message(), "; the counters stay empty");
        listener_.reset();
        return;
    }
    listener_ = std::make_unique<Listener>(io_, *e, *fd);
    readListener();
}

void SyncManager::readListener() {
    if (!listener_) return;
    Listener* l = listener_.get();
    l->socket.async_wait(asio::posix::descriptor_base::wait_read, [this, l](const boost::system::error_code& ec) {
        if (ec || listener_.get() != l) return;
        for (int i = 0; i < 64; ++i) {
            kmod::sync::Arrival from;
            const long n = kmod::sync::receiveOne(l->socket.native_handle(), l->buffer.data(), l->buffer.size(), from);
            if (n < 0) break;
            ++heard_.messagesReceived;
            auto dec = kmod::sync::accept(l->buffer.data(), l->buffer.size(), n, from, l->endpoint, drops_);
            if (!dec) continue;
            heard_.entriesReceived += dec->conns.size();
            for (const auto& c : dec->conns)
                ++(c.flags & kmod::sync::kTemplate ? heard_.templatesInstalled : heard_.connectionsInstalled);
        }
        readListener();
    });
}

void SyncManager::configure(const conf::SyncDaemonConfig& cfg) {
    const bool changed = !(cfg == cfg_);
    const bool wasEnabled = cfg_.enabled;
    cfg_ = cfg;
    if (!changed || !started_) return;
    if (wasEnabled || cfg_.enabled) apply("the configuration changed");
}

void SyncManager::onRole(const std::string& instance, ::vrrp::State state) {
    auto& cur = roles_[instance];
    const bool was = cur == ::vrrp::State::Master;
    cur = state;
    if (!started_ || !cfg_.enabled || instance != cfg_.vrrpInstance) return;
    if (was == (state == ::vrrp::State::Master)) return;
    ++switches_;
    const std::string why = "vrrp instance " + instance + " is " + ::vrrp::stateName(state);
    apply(why.c_str());
}

void SyncManager::start() {
    started_ = true;
    refreshed([this] {
        apply("startup");
        schedule(kCheckEvery);
    });
}

void SyncManager::refreshed(std::function<void()> then) {
    if (kmod::SyncDaemonControl* ctl = table_.syncDaemons()) ctl->refreshDaemons(std::move(then));
    else then();
}

void SyncManager::schedule(std::chrono::milliseconds after) {
    if (stopped_) return;
    timer_.expires_after(after);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        refreshed([this] {
            if (stopped_) return;
            apply("check");
            schedule(kCheckEvery);
        });
    });
}

void SyncManager::stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    listener_.reset();
    if (!cfg_.enabled) return;
    kmod::SyncDaemonControl* ctl = table_.syncDaemons();
    if (!ctl) return;
    auto actual = ctl->daemons();
    if (!actual) return;
    for (const auto& d : *actual) {
        const auto ec = ctl->stopDaemon(d.state);
        if (!ec || ec.value() == EINTR || ec.value() == ESRCH)
            base::log::info("sync: stopping: stopped the ", stateWord(d.state), " sync daemon on ", d.interface);
        else base::log::warning("sync: stopping: cannot stop the ", stateWord(d.state), " sync daemon: ", ec.message());
    }
}

std::vector<kmod::SyncDaemon> SyncManager::wanted() const {
    if (!cfg_.enabled) return {};
    kmod::SyncDaemon d;
    d.interface = cfg_.interface;
    d.syncId = static_cast<std::uint32_t>(cfg_.syncId);
    d.maxLen = static_cast<std::uint16_t>(cfg_.maxlen);
    d.group = cfg_.group;
    d.port = static_cast<std::uint16_t>(cfg_.port);
    d.ttl = static_cast<std::uint8_t>(cfg_.ttl);
    d.peers = cfg_.peers;
    d.limits.maxConnections = static_cast<std::uint32_t>(cfg_.maxConnections);
    d.limits.maxTemplates = static_cast<std::uint32_t>(cfg_.maxTemplates);
    d.limits.maxPerSource = static_cast<std::uint32_t>(cfg_.maxPerSource);
    std::vector<kmod::SyncDaemon> out;
    auto add = [&](std::uint32_t state) {
        d.state = state;
        out.push_back(d);
    };
    if (cfg_.vrrpInstance.empty()) {
        add(kmod::SyncDaemon::kMaster);
        add(kmod::SyncDaemon::kBackup);
    } else {
        auto it = roles_.find(cfg_.vrrpInstance);
        const bool master = it != roles_.end() && it->second == ::vrrp::State::Master;
        add(master ? kmod::SyncDaemon::kMaster : kmod::SyncDaemon::kBackup);
    }
    return out;
}

// `have` as the plane reports it (defaults resolved), `want` as configured.
bool SyncManager::matches(const kmod::SyncDaemon& have, const kmod::SyncDaemon& want) const {
    if (have.state != want.state || have.interface != want.interface || (have.syncId & 0xff) != (want.syncId & 0xff))
        return false;
    // peers and caps are the backup's, on a plane that takes them (changed: the daemon restarts
    // with them; what it installed stays)
    kmod::SyncDaemonControl* ctl = table_.syncDaemons();
    if (want.state == kmod::SyncDaemon::kBackup && ctl && ctl->filtersReceive() &&
        (have.peers != want.peers || have.limits != want.limits))
        return false;
    auto e = kmod::sync::resolve(want.state == kmod::SyncDaemon::kMaster, want.interface, want.syncId, want.maxLen,
                                 want.group, want.port, want.ttl);
    if (!e) return true;  // cannot be resolved here: what runs is as good as anything
    const base::IpAddress group = have.group ? *have.group : base::IpAddress::v4(0xe0000051);
    return group == e->group && (have.port ? have.port : 8848) == e->port && (have.ttl ? have.ttl : 1) == e->ttl &&
           (have.maxLen == 0 || have.maxLen == e->maxLen);
}

void SyncManager::apply(const char* why) {
    if (stopped_ || !started_) return;
    kmod::SyncDaemonControl* ctl = table_.syncDaemons();
    if (!ctl) {
        if (cfg_.enabled && !warnedNoControl_) {
            warnedNoControl_ = true;
            base::log::warning("sync: the ", table_.name(),
                               " data plane has no connection sync; global.sync_daemon does nothing here");
        }
        return;
    }
    auto actual = ctl->daemons();
    if (!actual) {
        const std::string e = "cannot list the sync daemons: " + actual.error().message();
        if (e != lastError_) base::log::error("sync: ", e, "; trying again every second");
        lastError_ = e;
        return;
    }
    const auto want = wanted();
    const auto now = std::chrono::steady_clock::now();
    std::vector<kmod::SyncDaemon> toStop, toStart;
    for (const auto& have : *actual)
        if (std::none_of(want.begin(), want.end(), [&](const auto& w) { return matches(have, w); }))
            toStop.push_back(have);
    for (const auto& w : want)
        if (std::none_of(actual->begin(), actual->end(), [&](const auto& have) { return matches(have, w); }))
            toStart.push_back(w);
    if (!cfg_.enabled && !toStop.empty() && std::string(why) != "the configuration changed") return;  // not ours
    for (const auto& d : toStop)
        if (auto it = startedAt_.find(d.state); it != startedAt_.end() && now - it->second < kStartSettle) {
            // stopping a daemon whose thread may not have run yet: wait for it (see the header)
            timer_.cancel();
            schedule(std::chrono::duration_cast<std::chrono::milliseconds>(kStartSettle - (now - it->second)) +
                     std::chrono::milliseconds(5));
            return;
        }
    const bool check = std::string(why) == "check";
    if (check && (!toStop.empty() || !toStart.empty())) ++repairs_;
    for (const auto& d : toStop) {
        const auto ec = ctl->stopDaemon(d.state);
        if (ec && ec.value() != EINTR && ec.value() != ESRCH) {
            base::log::error("sync: cannot stop the ", stateWord(d.state), " sync daemon on ", d.interface, ": ",
                             ec.message());
            continue;
        }
        base::log::info("sync: ", why, ": stopped the ", stateWord(d.state), " sync daemon on ", describe(d));
    }
    for (const auto& d : toStart) {
        const auto ec = ctl->startDaemon(d);
        if (ec) {
            const std::string e = std::string("cannot start the ") + stateWord(d.state) + " sync daemon on " +
                                  describe(d) + ": " + ec.message();
            if (e != lastError_)
                base::log::error("sync: ", e,
                                 ec.value() == ENODEV ? " (no such interface: check global.sync_daemon.interface)" : "",
                                 "; trying again every second");
            lastError_ = e;
            continue;
        }
        lastError_.clear();
        startedAt_[d.state] = now;
        base::log::info("sync: ", check ? "it was not running" : why, ": started the ", stateWord(d.state),
                        " sync daemon on ", describe(d));
    }
    if (auto now2 = ctl->daemons()) listen(*now2);
    if (std::string(why) == "startup")
        for (const auto& have : *actual)
            if (std::any_of(want.begin(), want.end(), [&](const auto& w) { return matches(have, w); }))
                base::log::info("sync: adopted the running ", stateWord(have.state), " sync daemon on ",
                                describe(have));
}

std::optional<kmod::SyncStatus> SyncManager::counters() const {
    kmod::SyncDaemonControl* ctl = table_.syncDaemons();
    auto st = ctl ? ctl->syncStatus() : std::nullopt;
    if (!st && table_.name() == "kernel" && ctl) {
        // the kernel counts nothing: what this worker's own listener heard, and the kernel's
        // synced connections (its table's SYNC origin)
        st = heard_;
        for (size_t i = 0; i < drops_.size(); ++i)
            if (drops_[i]) st->drops[kmod::sync::syncDropKey(static_cast<kmod::sync::SyncDrop>(i))] = drops_[i];
        std::ifstream in("/proc/net/ip_vs_conn_sync");
        std::string line;
        std::uint32_t synced = 0;
        while (std::getline(in, line))
            if (line.find(" SYNC ") != std::string::npos) ++synced;
        st->syncedConnections = synced;
    }
    return st;
}

void SyncManager::writeJson(base::JsonWriter& w) const {
    w.beginObject();
    w.field("configured", cfg_.enabled);
    if (cfg_.enabled) {
        w.field("interface", cfg_.interface);
        w.field("sync_id", cfg_.syncId);
        if (!cfg_.vrrpInstance.empty()) w.field("vrrp_instance", cfg_.vrrpInstance);
        else w.key("vrrp_instance").null();
    }
    w.field("switches", switches_);
    w.field("repairs", repairs_);
    if (!lastError_.empty()) w.field("error", lastError_);
    kmod::SyncDaemonControl* ctl = table_.syncDaemons();
    w.key("daemons").beginArray();
    if (ctl)
        if (auto ds = ctl->daemons())
            for (const auto& d : *ds) {
                w.beginObject();
                w.field("state", stateWord(d.state));
                w.field("interface", d.interface);
                w.field("sync_id", d.syncId);
                w.field("maxlen", static_cast<unsigned>(d.maxLen));
                w.field("group", d.group ? d.group->str() : std::string("224.0.0.81"));
                w.field("port", static_cast<unsigned>(d.port ? d.port : 8848));
                w.field("ttl", static_cast<unsigned>(d.ttl ? d.ttl : 1));
                w.endObject();
            }
    w.endArray();
    w.key("counters");
    const auto st = counters();
    if (!st) {
        w.null();
    } else {
        w.beginObject();
        if (table_.name() == "kernel") {
            // the kernel's master daemon counts nothing it sends (and this host cannot hear it)
            for (const char* k : {"messages_sent", "entries_sent", "send_errors", "queue_drops", "last_lag_ms"})
                w.key(k).null();
        } else {
            w.field("messages_sent", st->messagesSent);
            w.field("entries_sent", st->entriesSent);
            w.field("send_errors", st->sendErrors);
            w.field("queue_drops", st->queueDrops);
            w.field("last_lag_ms", static_cast<unsigned>(st->lastLagMs));
        }
        w.field("messages_received", st->messagesReceived);
        w.field("entries_received", st->entriesReceived);
        w.field("templates_installed", st->templatesInstalled);
        w.field("connections_installed", st->connectionsInstalled);
        w.field("unbound", st->unbound);
        w.field("stale", st->stale);
        w.field("synced_connections", static_cast<unsigned>(st->syncedConnections));
        w.key("dropped").beginObject();
        std::uint64_t total = 0;
        for (const auto& [k, v] : st->drops) {
            w.field(k, v);
            total += v;
        }
        w.field("total", total);
        w.endObject();
        w.endObject();
    }
    w.endObject();
}

}  // namespace director::lvs
