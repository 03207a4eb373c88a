#include "director/vrrp/Trackers.h"

#include <algorithm>
#include <set>

#include "base/Log.h"
#include "director/vrrp/ProcessWatch.h"
#include "healthcheck/Probe.h"
#include "healthcheck/ScriptProbe.h"
#include "healthcheck/TrackedFile.h"

namespace director::vrrp {

void addTracked(Tracking& t, int weight, bool up, bool reverse) {
    if (weight == 0) t.fault = t.fault || up == reverse;
    else if ((weight > 0) == up) t.delta += reverse ? -weight : weight;
}

std::vector<std::unique_ptr<TrackerKind>> makeTrackerKinds(asio::io_context& io, TrackingChanged changed) {
    std::vector<std::unique_ptr<TrackerKind>> kinds;
    kinds.push_back(std::make_unique<ScriptTrackers>(io, changed));
    kinds.push_back(std::make_unique<FileTrackers>(io, changed));
    kinds.push_back(std::make_unique<BfdTrackers>());
    kinds.push_back(std::make_unique<ProcessTrackers>(io, changed));
    return kinds;
}

ScriptTrackers::ScriptTrackers(asio::io_context& io, TrackingChanged changed) : io_(io), changed_(std::move(changed)) {}

ScriptTrackers::~ScriptTrackers() = default;

void ScriptTrackers::configure(const conf::Config& cfg) {
    std::set<std::string> wanted;
    for (const auto& v : cfg.vrrpInstances)
        for (const auto& ts : v.trackScripts) wanted.insert(ts.script);
    auto definition = [&](const std::string& name) {
        return std::find_if(cfg.vrrpScripts.begin(), cfg.vrrpScripts.end(),
                            [&](const auto& s) { return s.name == name; });
    };
    for (auto it = scripts_.begin(); it != scripts_.end();) {
        auto def = definition(it->first);
        if (wanted.contains(it->first) && def != cfg.vrrpScripts.end() && *def == it->second.cfg) {
            ++it;
            continue;
        }
        if (it->second.timer) it->second.timer->cancel();
        if (it->second.probe) it->second.probe->cancel();
        it = scripts_.erase(it);
    }
    for (const auto& name : wanted) {
        if (scripts_.contains(name)) continue;
        auto def = definition(name);
        if (def == cfg.vrrpScripts.end()) continue;  // the loader reports unknown scripts
        Script& t = scripts_[name];
        t.cfg = *def;
        t.up = !(t.cfg.initFail && !resuming_);
        t.timer = std::make_unique<asio::steady_timer>(io_);
        healthcheck::ScriptSpec spec;
        spec.argv = t.cfg.command.argv;
        spec.user = t.cfg.user.empty() ? cfg.global.scriptUser : t.cfg.user;
        spec.timeout = std::chrono::duration_cast<std::chrono::microseconds>(t.cfg.timeout);
        spec.scriptSecurity = cfg.global.scriptSecurity;
        t.probe = std::make_unique<healthcheck::ScriptProbe>(io_, spec);  // the user is looked up here, once
        run(name);
    }
    resuming_ = false;  // a script a reload adds starts as its init_fail says
}

void ScriptTrackers::run(const std::string& name) {
    auto it = scripts_.find(name);
    if (it == scripts_.end()) return;
    it->second.probe->run([this, name](healthcheck::ProbeResult r) {
        auto it2 = scripts_.find(name);
        if (it2 == scripts_.end()) return;
        Script& s = it2->second;
        s.ran = true;
        if (r.ok() != s.up) {
            if (++s.streak >= (r.ok() ? s.cfg.rise : s.cfg.fall)) {
                s.up = r.ok();
                s.streak = 0;
                base::log::notice("vrrp: script ", name, ": ", s.up ? "succeeds" : "fails",
                                  s.up ? "" : (" (" + r.output + ")"));
                changed_();
            }
        } else {
            s.streak = 0;
        }
        s.timer->expires_after(s.cfg.interval);
        s.timer->async_wait([this, name](const boost::system::error_code& ec) {
            if (!ec) run(name);
        });
    });
}

Tracking ScriptTrackers::tracking(const conf::VrrpInstance& inst) const {
    Tracking t;
    for (const auto& ts : inst.trackScripts) {
        auto s = scripts_.find(ts.script);
        if (s == scripts_.end()) continue;
        addTracked(t, ts.weight.value_or(s->second.cfg.weight), s->second.up);
    }
    return t;
}

void ScriptTrackers::states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const {
    for (const auto& ts : inst.trackScripts)
        if (auto it = scripts_.find(ts.script); it != scripts_.end())
            out[ts.script] = !it->second.ran ? 1 : it->second.up ? 3 : 2;
}

void ScriptTrackers::stop() {
    for (auto& [name, t] : scripts_) {
        if (t.timer) t.timer->cancel();
        if (t.probe) t.probe->cancel();
    }
}

FileTrackers::FileTrackers(asio::io_context& io, TrackingChanged changed) : io_(io), changed_(std::move(changed)) {}

FileTrackers::~FileTrackers() { stop(); }

void FileTrackers::configure(const conf::Config& cfg) {
    std::set<std::string> wanted;
    for (const auto& v : cfg.vrrpInstances)
        for (const auto& t : v.trackFiles) wanted.insert(t.file);
    auto definition = [&](const std::string& name) -> const conf::TrackFile* {
        for (const auto& f : cfg.trackFiles)
            if (f.name == name) return &f;
        return nullptr;
    };
    for (auto it = files_.begin(); it != files_.end();) {
        const auto* def = definition(it->first);
        if (wanted.contains(it->first) && def && def->path == it->second.cfg.path) {
            it->second.cfg = *def;  // weight and reverse are read when tracking() asks
            ++it;
            continue;
        }
        if (watch_ && it->second.subscription) watch_->unsubscribe(it->second.subscription);
        it = files_.erase(it);
    }
    for (const auto& name : wanted) {
        if (files_.contains(name)) continue;
        const auto* def = definition(name);
        if (!def) continue;  // the loader reports unknown track files
        if (!watch_) watch_ = healthcheck::FileWatch::shared(io_);
        File& f = files_[name];
        f.cfg = *def;
        std::string why;
        f.subscription = watch_->subscribe(
            def->path,
            [this, name](std::int64_t v) {
                base::log::notice("vrrp: track_file ", name, ": value ", v);
                changed_();
            },
            why);
        if (!f.subscription)
            base::log::error("vrrp: track_file ", name, ": ", why, "; it counts as value 0 until a restart");
    }
}

Tracking FileTrackers::tracking(const conf::VrrpInstance& inst) const {
    Tracking t;
    for (const auto& ref : inst.trackFiles) {
        auto it = files_.find(ref.file);
        if (it == files_.end()) continue;
        const auto& f = it->second;
        const std::int64_t value = watch_ && f.subscription ? watch_->value(f.cfg.path) : 0;
        const auto delta = healthcheck::fileTrackDelta(value, ref.weight ? *ref.weight : f.cfg.weight,
                                                       ref.reverse.value_or(f.cfg.reverse));
        if (!delta) t.fault = true;
        else t.delta += *delta;
    }
    return t;
}

void FileTrackers::states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const {
    for (const auto& ref : inst.trackFiles) {
        auto it = files_.find(ref.file);
        if (it == files_.end()) continue;
        Tracking one;
        conf::VrrpInstance just;
        just.trackFiles = {ref};
        one = tracking(just);
        out[ref.file] = one.fault ? 2 : 3;
    }
}

void FileTrackers::stop() {
    if (watch_)
        for (auto& [name, f] : files_)
            if (f.subscription) watch_->unsubscribe(f.subscription);
    files_.clear();
}

void BfdTrackers::configure(const conf::Config& cfg) {
    sessions_.clear();
    for (const auto& b : cfg.bfdInstances) sessions_.emplace(b.name, b);
}

Tracking BfdTrackers::tracking(const conf::VrrpInstance& inst) const {
    Tracking t;
    for (const auto& ref : inst.trackBfds) {
        auto s = sessions_.find(ref.bfd);
        if (s == sessions_.end()) continue;
        auto u = up_.find(ref.bfd);
        const bool up = u != up_.end() && u->second;
        addTracked(t, ref.weight.value_or(s->second.weight), up, ref.reverse.value_or(s->second.reverse));
    }
    return t;
}

void BfdTrackers::states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const {
    for (const auto& ref : inst.trackBfds) {
        auto u = up_.find(ref.bfd);
        out[ref.bfd] = u == up_.end() ? 1 : u->second ? 3 : 2;
    }
}

bool BfdTrackers::heard(const protocol::Message& m) {
    const auto* b = std::get_if<protocol::BfdStateMsg>(&m);
    if (!b) return false;
    auto [it, fresh] = up_.emplace(b->name, b->up);
    if (!fresh && it->second == b->up) return false;
    it->second = b->up;
    base::log::info("vrrp: tracked BFD session ", b->name, " is ", b->up ? "Up" : "down");
    return true;
}

ProcessTrackers::ProcessTrackers(asio::io_context& io, TrackingChanged changed)
    : io_(io), changed_(std::move(changed)) {}

ProcessTrackers::~ProcessTrackers() = default;

void ProcessTrackers::configure(const conf::Config& cfg) {
    std::set<std::string> used;
    for (const auto& v : cfg.vrrpInstances)
        for (const auto& t : v.trackProcesses) used.insert(t.process);
    std::vector<conf::TrackProcess> kinds;
    defs_.clear();
    for (const auto& p : cfg.trackProcesses)
        if (used.contains(p.name)) {
            kinds.push_back(p);
            defs_.emplace(p.name, p);
        }
    if (kinds.empty()) {
        if (watch_) watch_->stop();
        working_ = false;
        return;
    }
    if (!watch_) watch_ = std::make_unique<ProcessWatch>(io_, [this](const std::string&, bool) { changed_(); });
    std::string why;
    working_ = watch_->configure(kinds, why);
    if (!working_)
        base::log::error("vrrp: track_process: ", why,
                         "; the tracked processes keep the count /proc gave at start until a restart (needs "
                         "CAP_NET_ADMIN in the initial user namespace)");
}

Tracking ProcessTrackers::tracking(const conf::VrrpInstance& inst) const {
    Tracking t;
    for (const auto& ref : inst.trackProcesses) {
        auto d = defs_.find(ref.process);
        if (d == defs_.end() || !watch_) continue;
        addTracked(t, ref.weight.value_or(d->second.weight), watch_->up(ref.process),
                   ref.reverse.value_or(d->second.reverse));
    }
    return t;
}

void ProcessTrackers::states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const {
    for (const auto& ref : inst.trackProcesses)
        if (watch_ && defs_.contains(ref.process)) out[ref.process] = watch_->up(ref.process) ? 3 : 2;
}

void ProcessTrackers::stop() {
    if (watch_) watch_->stop();
    defs_.clear();
}

}  // namespace director::vrrp
