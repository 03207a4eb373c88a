#include "director/lvs/RemotePlane.h"

#include <algorithm>

#include "kmod/sync/SyncSocket.h"

namespace director::lvs {

void RemotePlane::load(const kmod::userspace::PlaneTable& table) { channel_.send(protocol::TableMsg{table}); }

void RemotePlane::zero(const std::optional<kmod::ServiceKey>& only) { channel_.send(protocol::PlaneZeroMsg{only}); }

void RemotePlane::refresh(std::function<void()> done) { ask(std::move(done), true); }

void RemotePlane::refreshDaemons(std::function<void()> done) { ask(std::move(done), false); }

void RemotePlane::ask(std::function<void()> done, bool connections) {
    const std::uint64_t id = nextId_++;
    Pending& p = pending_[id];
    p.done = std::move(done);
    p.light = !connections;
    p.timeout = std::make_unique<asio::steady_timer>(io_, std::chrono::seconds(1));
    p.timeout->async_wait([this, id](const boost::system::error_code& ec) {
        if (!ec) finish(id);  // no answer: the forwarding worker is restarting; answer with what we have
    });
    channel_.send(protocol::PlaneQueryMsg{id, connections});
}

std::error_code RemotePlane::startDaemon(const kmod::SyncDaemon& d) {
    if (d.state != kmod::SyncDaemon::kMaster && d.state != kmod::SyncDaemon::kBackup)
        return std::error_code(EINVAL, std::generic_category());
    auto e = kmod::sync::resolve(d.state == kmod::SyncDaemon::kMaster, d.interface, d.syncId, d.maxLen, d.group, d.port,
                                 d.ttl);
    if (!e) return e.error();
    auto& list = last_.daemons;
    if (std::any_of(list.begin(), list.end(), [&](const kmod::SyncDaemon& x) { return x.state == d.state; }))
        return std::error_code(EEXIST, std::generic_category());
    kmod::SyncDaemon running = d;  // as the forwarding worker will report it
    running.syncId = e->syncId;
    running.maxLen = e->maxLen;
    running.group = e->group;
    running.port = e->port;
    running.ttl = e->ttl;
    list.push_back(running);
    channel_.send(protocol::PlaneDaemonMsg{true, d});
    return {};
}

std::error_code RemotePlane::stopDaemon(std::uint32_t state) {
    if (state != kmod::SyncDaemon::kMaster && state != kmod::SyncDaemon::kBackup)
        return std::error_code(EINVAL, std::generic_category());
    auto& list = last_.daemons;
    auto it = std::find_if(list.begin(), list.end(), [&](const kmod::SyncDaemon& x) { return x.state == state; });
    if (it == list.end()) return std::error_code(ESRCH, std::generic_category());
    list.erase(it);
    kmod::SyncDaemon d;
    d.state = state;
    channel_.send(protocol::PlaneDaemonMsg{false, d});
    return {};
}

void RemotePlane::onReport(protocol::PlaneReportMsg&& report) {
    const std::uint64_t id = report.id;
    if (id == 0) {  // after a daemon change: only the daemons are in it
        last_.daemons = std::move(report.daemons);
        last_.sync = std::move(report.sync);
        return;
    }
    auto it = pending_.find(id);
    if (it != pending_.end() && it->second.light) {
        last_.daemons = std::move(report.daemons);
        last_.sync = std::move(report.sync);
        last_.status = std::move(report.status);
        last_.forwarding = report.forwarding;
    } else {
        last_ = std::move(report);
    }
    finish(id);
}

// Answers every request up to `upTo` (an answer to a later query is at least as fresh).
void RemotePlane::finish(std::uint64_t upTo) {
    while (!pending_.empty() && pending_.begin()->first <= upTo) {
        auto node = pending_.extract(pending_.begin());
        node.mapped().timeout->cancel();
        if (node.mapped().done) node.mapped().done();
    }
}

}  // namespace director::lvs
