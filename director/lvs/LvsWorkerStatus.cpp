// The lvs worker's status part: the snapshot every view renders (director/status/), the bodies the
// status worker asks for, and SIGUSR1's state dump.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/Json.h"
#include "base/Log.h"
#include "director/lvs/LvsWorker.h"
#include "director/status/Metrics.h"
#include "director/status/Snapshot.h"

namespace director::lvs {

status::Snapshot LvsWorker::snapshot(bool plane) const {
    status::Snapshot s(cfg_);
    s.pid = getpid();
    s.version = DIRECTORD_VERSION;
    s.dataPlane = table_->name();
    s.routerId = routerId();
    s.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    s.nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
                  .count();
    s.agentStartMs = snmpStartMs_;
    s.reloads = reloads_;
    s.resyncs = resyncs_;
    s.driftRepairs = reconciler_.repairs();
    s.httpRequests = frontStats_.httpRequests;
    s.director = supervisor_;
    s.roles = vrrpRoles_;
    s.vrrp = vrrpStatus_;
    s.health = operatorView();
    s.quorumUp = quorum_.states();
    s.since = [this](const RsId& id) { return health_->since(id); };
    s.disabledSince = operator_.disabledTimes();
    s.enabledAt = operator_.enabledTimes();
    s.announcing = cfg_.global.announce.enabled;
    s.announceTable = cfg_.global.announce.table;
    s.withdrawn = operator_.withdrawn();
    if (s.announcing) s.announcements = announcing_.announcements();
    if (auto bfd = healthcheck::BfdEngine::existing(io_)) {
        s.bfd = bfd->sessions();
        s.bfdDrops = bfd->drops();
    }
    if (!plane) return s;
    if (auto table = table_->dump()) s.table = std::move(*table);
    if (auto status = table_->status()) s.status = std::move(*status);
    if (auto* ctl = table_->syncDaemons())
        if (auto ds = ctl->daemons())
            for (const auto& d : *ds)
                s.syncDaemons.push_back(std::string(d.state == kmod::SyncDaemon::kMaster ? "master" : "backup") +
                                        " daemon on " + d.interface + ", sync id " + std::to_string(d.syncId));
    s.sync = sync_.counters();
    s.syncSendsCounted = !sync_.kernelSends();
    s.checks = health_->checkStats();
    s.transactions = table_->transactions();
    s.forwarding = table_->forwarding();
    s.owned = reconciler_.owned();
    return s;
}

status::StatusReport LvsWorker::statusReport() const { return status::statusReport(snapshot()); }

// The JSON view also carries the sync manager's and the checks' own JSON; only it needs them, so
// they are written here, not for every snapshot (SNMP rebuilds one every second while read).
std::string LvsWorker::stateJson() const {
    auto s = snapshot();
    base::JsonWriter sync, checks;
    sync_.writeJson(sync);
    health_->writeJson(checks);
    s.syncJson = sync.str();
    s.checksJson = checks.str();
    return status::stateJson(s);
}

// Asked by the status front for a path: each body is built once, from the state as it is now.
void LvsWorker::answerStatus(const protocol::StatusRequestMsg& request) {
    protocol::StatusReplyMsg reply;
    reply.id = request.id;
    if (request.path == "/status") {
        reply.found = true;
        reply.contentType = "application/json";
        reply.body = stateJson() + "\n";
    } else if (request.path == "/metrics") {
        reply.found = true;
        reply.contentType = "text/plain; version=0.0.4; charset=utf-8";
        reply.body = metricsText();
    }
    toFront(reply);
}

void LvsWorker::onFrontStats(const protocol::FrontStatsMsg& stats) {
    frontStats_ = stats;
    if (stats.snmpIdleMs >= 0)
        snmpLastRead_ = std::chrono::steady_clock::now() - std::chrono::milliseconds(stats.snmpIdleMs);
    if (stats.fresh && snmp_) {  // a new status worker has no snapshot: one now
        snmpDirty_ = true;
        snmpPublish();
    }
}

std::string LvsWorker::metricsText() const { return status::metricsText(snapshot()); }

void LvsWorker::dumpState() {
    const std::string& path = cfg_.global.stateDumpFile;
    const std::string tmp = path + ".tmp";
    const std::string json = stateJson() + "\n";
    ::unlink(tmp.c_str());  // whatever was left there (a planted link included) is not followed
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0;
    if (ok) {
        ok = ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
        ok = (::close(fd) == 0) && ok;
        ok = ok && std::rename(tmp.c_str(), path.c_str()) == 0;
    }
    if (!ok) base::log::error("state: cannot write ", path, ": ", std::strerror(errno));
    else base::log::info("state: written to ", path);
}

}  // namespace director::lvs
