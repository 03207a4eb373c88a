#include "director/VrrpWorker.h"

#include <fcntl.h>
#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "director/CommandRunner.h"
#include "director/ReloadPlanner.h"
#include "director/base/Log.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

VrrpWorker::VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer)
    : io_(io), cfg_(std::move(cfg)), peer_(peer), runner_(std::make_unique<ProcessCommandRunner>(io)) {
    peer_.onLine([](const std::string& line) { base::log::debug("vrrp: ignoring peer message '", line, "'"); });
}

void VrrpWorker::startInstance(const conf::VrrpInstance& v) {
    roles_[v.name] = vrrp::State::Init;
    auto inst = std::make_unique<vrrp::Instance>(io_, v, [this, v](const std::string& name, vrrp::State, vrrp::State to) {
        roles_[name] = to;
        peer_.send("role " + name + " " + vrrp::stateName(to));
        notify(v, to);
    });
    inst->start();
    instances_[v.name] = std::move(inst);
}

void VrrpWorker::notify(const conf::VrrpInstance& v, vrrp::State to) {
    const char* state = to == vrrp::State::Init ? "STOP" : vrrp::stateName(to);
    const conf::Command* script = to == vrrp::State::Master   ? &v.notify.master
                                  : to == vrrp::State::Backup ? &v.notify.backup
                                  : to == vrrp::State::Fault  ? &v.notify.fault
                                                              : &v.notify.stop;
    const std::string why = std::string("notify ") + state + " for vrrp instance " + v.name;
    if (!script->empty()) runner_->run(*script, cfg_.global.scriptUser, why);
    if (!v.notify.generic.empty()) {
        conf::Command generic = v.notify.generic;
        for (const std::string& a : {std::string("INSTANCE"), v.name, std::string(state), std::to_string(v.priority)})
            generic.argv.push_back(a);
        runner_->run(generic, cfg_.global.scriptUser, why);
    }
    if (!cfg_.global.notifyFifo.empty()) {
        // a fifo without a reader is skipped (O_NONBLOCK: ENXIO), never waited for; a reader that
        // left (EPIPE) is looked for again at the next transition
        if (fifo_ < 0) fifo_ = ::open(cfg_.global.notifyFifo.c_str(), O_WRONLY | O_NONBLOCK | O_APPEND | O_CLOEXEC);
        if (fifo_ >= 0) {
            const std::string line = "INSTANCE \"" + v.name + "\" " + state + " " + std::to_string(v.priority) + "\n";
            if (::write(fifo_, line.data(), line.size()) < 0) {
                base::log::debug("vrrp: notify fifo: ", std::strerror(errno));
                ::close(fifo_);
                fifo_ = -1;
            }
        }
    }
}

void VrrpWorker::start() {
    if (cfg_.vrrpInstances.empty()) base::log::info("vrrp: no vrrp_instances configured");
    for (const auto& v : cfg_.vrrpInstances) startInstance(v);
    startScripts();
    announce();
}

void VrrpWorker::startScripts() {
    for (auto& [name, t] : scripts_) {
        if (t.timer) t.timer->cancel();
        if (t.probe) t.probe->cancel();
    }
    scripts_.clear();
    for (const auto& v : cfg_.vrrpInstances)
        for (const auto& ts : v.trackScripts) {
            if (scripts_.contains(ts.script)) continue;
            auto it = std::find_if(cfg_.vrrpScripts.begin(), cfg_.vrrpScripts.end(), [&](const auto& s) { return s.name == ts.script; });
            if (it == cfg_.vrrpScripts.end()) continue;  // the loader reports unknown scripts
            ScriptTracker& t = scripts_[ts.script];
            t.cfg = *it;
            t.timer = std::make_unique<asio::steady_timer>(io_);
            runScript(ts.script);
        }
    for (const auto& v : cfg_.vrrpInstances) applyScripts(v.name);  // positive weights count from the start
}

void VrrpWorker::runScript(const std::string& name) {
    auto it = scripts_.find(name);
    if (it == scripts_.end()) return;
    ScriptTracker& t = it->second;
    healthcheck::ScriptSpec spec;
    spec.argv = t.cfg.command.argv;
    spec.user = t.cfg.user.empty() ? cfg_.global.scriptUser : t.cfg.user;
    spec.timeout = std::chrono::microseconds(static_cast<std::int64_t>(t.cfg.timeout * 1e6));
    t.probe = std::make_unique<healthcheck::ScriptProbe>(io_, spec);
    t.probe->run([this, name](healthcheck::ProbeResult r) {
        auto it2 = scripts_.find(name);
        if (it2 == scripts_.end()) return;
        ScriptTracker& s = it2->second;
        if (r.ok() != s.up) {
            if (++s.streak >= (r.ok() ? s.cfg.rise : s.cfg.fall)) {
                s.up = r.ok();
                s.streak = 0;
                base::log::notice("vrrp: script ", name, ": ", s.up ? "succeeds" : "fails",
                                  s.up ? "" : (" (" + r.output + ")"));
                for (const auto& v : cfg_.vrrpInstances) applyScripts(v.name);
            }
        } else {
            s.streak = 0;
        }
        s.timer->expires_after(std::chrono::microseconds(static_cast<std::int64_t>(s.cfg.interval * 1e6)));
        s.timer->async_wait([this, name](const boost::system::error_code& ec) {
            if (!ec) runScript(name);
        });
    });
}

// keepalived's rules: weight 0 and failing = FAULT; weight > 0 added while it succeeds; weight < 0
// added while it fails.
void VrrpWorker::applyScripts(const std::string& instance) {
    auto inst = instances_.find(instance);
    auto cfgIt = std::find_if(cfg_.vrrpInstances.begin(), cfg_.vrrpInstances.end(), [&](const auto& v) { return v.name == instance; });
    if (inst == instances_.end() || cfgIt == cfg_.vrrpInstances.end()) return;
    int delta = 0;
    bool fault = false;
    for (const auto& ts : cfgIt->trackScripts) {
        auto s = scripts_.find(ts.script);
        if (s == scripts_.end()) continue;
        const int weight = ts.weight.value_or(s->second.cfg.weight);
        if (weight == 0 && !s->second.up) fault = true;
        if (weight > 0 && s->second.up) delta += weight;
        if (weight < 0 && !s->second.up) delta += weight;
    }
    inst->second->setScriptTracking(delta, fault);
}

void VrrpWorker::announce() {
    for (const auto& v : cfg_.vrrpInstances) peer_.send("role " + v.name + " " + vrrp::stateName(roles_[v.name]));
}

void VrrpWorker::reload(conf::Config next) {
    const ReloadPlan plan = planReload(cfg_, next);
    for (const auto& name : plan.vrrpRemoved) {
        if (auto it = instances_.find(name); it != instances_.end()) {
            it->second->stop();
            instances_.erase(it);
        }
        roles_.erase(name);
    }
    for (const auto& name : plan.vrrpChanged)
        if (auto it = instances_.find(name); it != instances_.end()) {
            it->second->stop();
            instances_.erase(it);
        }
    cfg_ = std::move(next);
    for (const auto& v : cfg_.vrrpInstances)
        if (!instances_.contains(v.name)) startInstance(v);
    startScripts();
    base::log::info("reload: vrrp: ", plan.vrrpAdded.size(), " instances added, ", plan.vrrpRemoved.size(),
                    " removed, ", plan.vrrpChanged.size(), " changed, ", plan.vrrpKept.size(), " unchanged");
    announce();
}

VrrpWorker::~VrrpWorker() {
    if (fifo_ >= 0) ::close(fifo_);
}

void VrrpWorker::stop() {
    base::log::info("vrrp: stopping");
    for (auto& [name, t] : scripts_) {
        if (t.timer) t.timer->cancel();
        if (t.probe) t.probe->cancel();
    }
    for (auto& [name, inst] : instances_) inst->stop();
    instances_.clear();
}

}  // namespace director
