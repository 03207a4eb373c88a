#include "director/lvs/HealthMonitor.h"

#include <algorithm>

#include "base/Log.h"
#include "director/checks/CheckKind.h"

namespace director::lvs {
namespace {
const char* healthName(bool up) { return up ? "UP" : "DOWN"; }
}  // namespace

HealthMonitor::HealthMonitor(base::TimerFactory& timers, ProbeFactory& probes, CommandRunner& commands,
                             std::function<void(const std::set<kmod::ServiceKey>&)> onChange)
    : timers_(timers), probes_(probes), commands_(commands), onChange_(std::move(onChange)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::configure(const conf::Config& cfg, const std::set<kmod::ServiceKey>* touched) {
    auto affected = [touched](const kmod::ServiceKey& k) { return !touched || touched->contains(k); };
    // The servers of the affected services: all of them, or the ranges of the touched ones.
    auto eachAffected = [&](auto fn) {
        if (!touched) {
            for (auto it = servers_.begin(); it != servers_.end();) it = fn(it);
            return;
        }
        for (const auto& k : *touched)
            for (auto it = servers_.lower_bound({k, kmod::DestKey{}}); it != servers_.end() && it->first.first == k;)
                it = fn(it);
    };
    // 1. The affected servers let go of their sessions (a session still used elsewhere stays).
    std::set<std::string> released;
    std::map<RsId, Since> history;
    eachAffected([&](std::map<RsId, Server>::iterator it) {
        history.emplace(it->first, it->second.since);
        for (const auto& key : it->second.sessionKeys)
            if (auto s = sessions_.find(key); s != sessions_.end()) {
                s->second.servers.erase(it->first);
                released.insert(key);
            }
        view_.servers.erase(it->first);
        return servers_.erase(it);
    });
    // 2. The affected virtual servers of the new config take their sessions: an unchanged check
    // keeps its session and state, a new one gets a new session.
    std::set<std::string> fresh, attached;
    size_t added = 0;
    for (const auto& vs : cfg.virtualServers) {
        const auto vsKey = serviceKey(vs);
        if (!affected(vsKey)) continue;
        const std::string vsName = vs.str();
        for (const auto& rs : vs.realServers) {
            const RsId id{vsKey, kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}};
            Server srv{vsName, conf::realServerStr(rs), {}, rs.notifyUp, rs.notifyDown, cfg.global.scriptUser, {},
                       rs.weight, rs.smtpAlert, trio(vs), trio(vs, rs)};
            // a kept real server keeps its history; a new one starts now
            if (auto old = history.find(id); old != history.end()) srv.since = old->second;
            else srv.since = nowSince(false, rs.checks.empty() ? "no checks: always up" : "configured");
            for (const auto& c : rs.checks) {
                std::string key = checkKey(cfg, vs, rs, c);
                srv.sessionKeys.push_back(key);
                attached.insert(key);
                if (auto it = sessions_.find(key); it != sessions_.end()) {
                    it->second.servers.insert(id);
                    continue;
                }
                ++added;
                fresh.insert(key);
                std::string why;
                auto probe = probes_.make(cfg, vs, rs, c, why);
                if (!probe) {
                    base::log::error("check: vs ", vsName, " rs ", srv.rsName, ": cannot run its ", conf::name(c.type),
                                     " check: ", why, "; the server counts as down until fixed");
                    // A check that cannot run is a failing check: the server stays down.
                    sessions_.emplace(key, Session{nullptr, {id}, conf::name(c.type), why, {}});
                    continue;
                }
                Session s;
                s.check =
                    std::make_unique<healthcheck::CheckSession>(timers_, std::move(probe), checkTiming(vs, c), seed_++);
                s.servers = {id};
                s.type = conf::name(c.type);
                const auto target = c.connectIp.value_or(rs.address);
                const auto* kind = checks::find(c.type);
                s.additive = kind && kind->additiveWeight;
                if (kind && kind->label) s.target = kind->label(checks::CheckRef{cfg, vs, rs, c});
                else if (kind && kind->addressOnly) s.target = target.str();
                else
                    s.target = (target.isV6() ? "[" + target.str() + "]" : target.str()) + ":" +
                               std::to_string(c.connectPort.value_or(rs.port));
                if (c.logAllFailures)  // keepalived's log_all_failures: each failed attempt, not only up/down
                    s.check->setFailureObserver([what = s.type + " " + s.target, vsName, rsName = srv.rsName](
                                                    const healthcheck::ProbeResult& r, int retriesLeft) {
                        base::log::info("check: vs ", vsName, " rs ", rsName, ": ", what, " failed: ", r.describe(),
                                        retriesLeft > 0 ? " (" + std::to_string(retriesLeft) + " retries left)"
                                                        : std::string(" (counted)"));
                    });
                s.check->addListener([this, key](healthcheck::CheckSession&,
                                                 const healthcheck::CheckSession::Event& e) { onEvent(key, e); });
                sessions_.emplace(std::move(key), std::move(s));
            }
            servers_.emplace(id, std::move(srv));
        }
    }
    // 3. Sessions nobody uses any more stop.
    size_t dropped = 0;
    for (const auto& key : released) {
        auto it = sessions_.find(key);
        if (it == sessions_.end() || !it->second.servers.empty()) continue;
        if (it->second.check) it->second.check->stop();
        sessions_.erase(it);
        ++dropped;
    }
    for (const auto& key : attached) {
        auto it = sessions_.find(key);
        if (it == sessions_.end() || !it->second.check) continue;
        updatePause(it->second);
        it->second.check->start();  // no-op for kept sessions
    }
    // The affected servers' health from their sessions (kept sessions bring their state).
    eachAffected([&](std::map<RsId, Server>::iterator it) {
        if (!it->second.sessionKeys.empty()) view_.servers[it->first] = evaluate(it->second);
        return std::next(it);
    });
    const size_t kept = attached.size() - fresh.size();
    if (kept + added + dropped > 0)
        base::log::info("check: ", sessions_.size(), " checks (", kept, " kept, ", added, " new, ", dropped,
                        " dropped) for ", servers_.size(), " real servers");
}

RsHealth HealthMonitor::evaluate(const Server& s) const {
    RsHealth h;
    std::optional<int> set;
    std::int64_t added = 0;
    for (const auto& key : s.sessionKeys) {
        const Session& sess = sessions_.at(key);
        if (!sess.check) {
            h.up = false;
            ++h.failedChecks;
            h.reason = sess.type + " check cannot run: " + sess.target;  // the reason that matters most
            continue;
        }
        if (sess.check->health() == healthcheck::Health::Down) {
            h.up = false;
            ++h.failedChecks;
            if (h.reason.empty()) {
                const auto& last = sess.check->lastResult();
                h.reason = sess.type + " " + sess.target + ": " + (last ? last->describe() : "not checked yet");
            }
        }
        if (const auto w = sess.check->dynamicWeight()) {
            if (sess.additive) added += *w;
            else if (!set) set = w;
        }
    }
    // keepalived's sum: the weight a dynamic script sets (else the configured one) plus what each
    // file check adds, within what IPVS takes
    if (set || added != 0) h.weight = static_cast<int>(std::clamp<std::int64_t>(set.value_or(s.weight) + added, 0, 65535));
    if (h.up) h.reason.clear();
    return h;
}

void HealthMonitor::onEvent(const std::string& key, const healthcheck::CheckSession::Event& e) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    std::set<kmod::ServiceKey> changed;
    for (const auto& id : it->second.servers) {
        const Server& srv = servers_.at(id);
        const RsHealth now = evaluate(srv);
        RsHealth& was = view_.servers[id];
        if (now == was) continue;
        changed.insert(id.first);
        if (now.up != was.up) {
            servers_.at(id).since =
                nowSince(true, now.up ? it->second.type + " " + it->second.target + ": ok" : now.reason);
            const int need = now.up ? it->second.check->timing().rise : it->second.check->timing().fall;
            base::log::notice("check: vs ", srv.vsName, " rs ", srv.rsName, ": ", healthName(was.up), " -> ",
                              healthName(now.up), " (",
                              now.up ? it->second.type + " " + it->second.target + ": ok" : now.reason, ", ", e.streak,
                              "/", need, ")");
            if (srv.smtpAlert && mailer_ && mailer_->enabled())
                mailer_->send(Mailer::realServerSubject(srv.rsTrio, srv.vsTrio, now.up),
                              Mailer::realServerBody(it->second.type, now.up));
            const conf::Command& cmd = now.up ? srv.notifyUp : srv.notifyDown;
            if (!cmd.empty())
                commands_.run(cmd, srv.user,
                              std::string(now.up ? "notify_up" : "notify_down") + " for rs " + srv.rsName);
        } else if (now.weight != was.weight) {
            base::log::info("check: vs ", srv.vsName, " rs ", srv.rsName, ": weight ",
                            was.weight ? std::to_string(*was.weight) : "configured", " -> ",
                            now.weight ? std::to_string(*now.weight) : "configured", " (dynamic weight)");
        }
        was = now;
    }
    if (!changed.empty() && onChange_) onChange_(changed);
}

std::string HealthMonitor::trio(const conf::VirtualServer& vs) {
    if (vs.fwmark) return "FWM " + std::to_string(vs.fwmark);
    conf::RealServer self;
    self.address = vs.address.value_or(base::IpAddress());
    self.port = vs.port;
    return trio(vs, self);
}

std::string HealthMonitor::trio(const conf::VirtualServer& vs, const conf::RealServer& rs) {
    return "[" + rs.address.str() + "]:" + vs.protocol + ":" + std::to_string(rs.port);
}

HealthMonitor::Since HealthMonitor::nowSince(bool transition, std::string why) const {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    return Since{timers_.now(), std::chrono::duration_cast<std::chrono::seconds>(wall).count(), transition,
                 std::move(why)};
}

std::optional<HealthMonitor::Since> HealthMonitor::since(const RsId& id) const {
    auto it = servers_.find(id);
    if (it == servers_.end()) return std::nullopt;
    return it->second.since;
}

void HealthMonitor::updatePause(Session& s) {
    bool suspend = false;
    for (const auto& id : s.servers) suspend |= suspended_.contains(id.first);
    // A check shared by several services runs while any of them needs it.
    bool anyActive = false;
    for (const auto& id : s.servers) anyActive |= !suspended_.contains(id.first);
    if (anyActive) s.check->resume();
    else if (suspend) s.check->pause();
}

void HealthMonitor::setSuspended(const kmod::ServiceKey& vs, bool suspended) {
    if (suspended == suspended_.contains(vs)) return;
    if (suspended) suspended_.insert(vs);
    else suspended_.erase(vs);
    for (auto& [k, s] : sessions_) {
        if (!s.check) continue;
        bool mine = false;
        for (const auto& id : s.servers) mine |= id.first == vs;
        if (mine) updatePause(s);
    }
}

void HealthMonitor::runShutdownNotifiers() {
    for (const auto& [id, srv] : servers_) {
        auto it = view_.servers.find(id);
        const bool up = it == view_.servers.end() || it->second.up;
        if (up && !srv.notifyDown.empty())
            commands_.run(srv.notifyDown, srv.user, "notify_down (omega) for rs " + srv.rsName);
    }
}

void HealthMonitor::stop() {
    for (auto& [k, s] : sessions_)
        if (s.check) s.check->stop();
}

std::vector<HealthMonitor::CheckStats> HealthMonitor::checkStats() const {
    std::vector<CheckStats> out;
    for (const auto& [id, srv] : servers_)
        for (size_t i = 0; i < srv.sessionKeys.size(); ++i) {
            const Session& sess = sessions_.at(srv.sessionKeys[i]);
            if (!sess.check) continue;
            std::optional<double> last;
            if (const auto& r = sess.check->lastResult()) last = static_cast<double>(r->latency.count()) / 1000.0;
            out.push_back({id.first, id.second, i + 1, sess.type, sess.check->counters(), last});
        }
    return out;
}

void HealthMonitor::writeJson(base::JsonWriter& w) const {
    w.beginArray();
    for (const auto& [key, s] : sessions_) {
        w.beginObject();
        w.field("type", s.type);
        w.field("target", s.target);
        w.field("servers", static_cast<std::uint64_t>(s.servers.size()));
        if (s.check) {
            w.field("health", healthName(s.check->health() == healthcheck::Health::Up));
            w.field("paused", s.check->paused());
            w.field("attempts", s.check->counters().attempts);
            w.field("failures", s.check->counters().failures);
            if (const auto& last = s.check->lastResult()) {
                w.field("last_result", last->describe());
                w.field("last_latency_us", static_cast<std::int64_t>(last->latency.count()));
            }
        } else {
            w.field("health", "DOWN");
            w.field("error", s.target);
        }
        w.endObject();
    }
    w.endArray();
}

}  // namespace director::lvs
