#include "director/vrrp/Trackers.h"

#include <algorithm>
#include <set>

#include "base/Log.h"
#include "healthcheck/Probe.h"
#include "healthcheck/ScriptProbe.h"

namespace director::vrrp {

void addTracked(Tracking& t, int weight, bool up) {
    if (weight == 0 && !up) t.fault = true;
    if (weight > 0 && up) t.delta += weight;
    if (weight < 0 && !up) t.delta += weight;
}

std::vector<std::unique_ptr<TrackerKind>> makeTrackerKinds(asio::io_context& io, TrackingChanged changed) {
    std::vector<std::unique_ptr<TrackerKind>> kinds;
    kinds.push_back(std::make_unique<ScriptTrackers>(io, changed));
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
        t.timer = std::make_unique<asio::steady_timer>(io_);
        healthcheck::ScriptSpec spec;
        spec.argv = t.cfg.command.argv;
        spec.user = t.cfg.user.empty() ? cfg.global.scriptUser : t.cfg.user;
        spec.timeout = std::chrono::duration_cast<std::chrono::microseconds>(t.cfg.timeout);
        spec.scriptSecurity = cfg.global.scriptSecurity;
        t.probe = std::make_unique<healthcheck::ScriptProbe>(io_, spec);  // the user is looked up here, once
        run(name);
    }
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

}  // namespace director::vrrp
