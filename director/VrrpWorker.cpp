#include "director/VrrpWorker.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cstring>

#include "base/Json.h"
#include "base/Log.h"
#include "director/CommandRunner.h"
#include "director/ReloadPlanner.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

VrrpWorker::VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer)
    : io_(io), cfg_(std::move(cfg)), peer_(peer), runner_(std::make_unique<ProcessCommandRunner>(io)) {
    peer_.onMessage([this](protocol::Message&& m) {
        if (auto* c = std::get_if<protocol::ConfigMsg>(&m)) return reload(std::move(c->config));
        base::log::debug("vrrp: ignoring a message of type ", static_cast<int>(protocol::typeOf(m)));
    });
}

void VrrpWorker::createInstance(const conf::VrrpInstance& v) {
    roles_[v.name] = vrrp::State::Init;
    instances_[v.name] =
        std::make_unique<vrrp::Instance>(io_, v, [this, v](const std::string& name, vrrp::State, vrrp::State to) {
            roles_[name] = to;
            ++transitions_[name];
            peer_.send(protocol::RoleMsg{name, to});
            notify(v.notify, "INSTANCE", v.name, to, v.priority);
        });
}

// Sync groups are formed before their members start (a member must never take the VIPs alone)
// and again after every reload, over whichever member objects are current.
void VrrpWorker::formGroups() {
    groups_.clear();
    for (const auto& g : cfg_.syncGroups) {
        std::vector<vrrp::Instance*> members;
        for (const auto& m : g.members)
            if (auto it = instances_.find(m); it != instances_.end()) members.push_back(it->second.get());
        groups_.push_back(std::make_unique<vrrp::InstanceGroup>(
            g.name, members,
            [this, g](const std::string&, vrrp::State to) { notify(g.notify, "GROUP", g.name, to, 0); }));
    }
}

void VrrpWorker::notify(const conf::NotifyConfig& n, const std::string& kind, const std::string& name, vrrp::State to,
                        int priority) {
    const char* state = to == vrrp::State::Init ? "STOP" : vrrp::stateName(to);
    const conf::Command* script = to == vrrp::State::Master   ? &n.master
                                  : to == vrrp::State::Backup ? &n.backup
                                  : to == vrrp::State::Fault  ? &n.fault
                                                              : &n.stop;
    const std::string what = kind == "GROUP" ? "sync group" : "vrrp instance";
    const std::string why = std::string("notify ") + state + " for " + what + " " + name;
    if (!script->empty()) runner_->run(*script, cfg_.global.scriptUser, why);
    if (!n.generic.empty()) {
        conf::Command generic = n.generic;
        for (const std::string& a : {kind, name, std::string(state), std::to_string(priority)})
            generic.argv.push_back(a);
        runner_->run(generic, cfg_.global.scriptUser, why);
    }
    writeFifo(kind + " \"" + name + "\" " + state + " " + std::to_string(priority) + "\n");
}

void VrrpWorker::writeFifo(const std::string& line) {
    if (cfg_.global.notifyFifo.empty()) return;
    // a fifo without a reader is skipped (O_NONBLOCK: ENXIO), never waited for; a reader that
    // left (EPIPE) is looked for again at the next transition
    if (fifo_ < 0) fifo_ = ::open(cfg_.global.notifyFifo.c_str(), O_WRONLY | O_NONBLOCK | O_APPEND | O_CLOEXEC);
    if (fifo_ < 0) return;
    if (::write(fifo_, line.data(), line.size()) < 0) {
        base::log::debug("vrrp: notify fifo: ", std::strerror(errno));
        ::close(fifo_);
        fifo_ = -1;
    }
}

void VrrpWorker::start() {
    if (cfg_.vrrpInstances.empty()) base::log::info("vrrp: no vrrp_instances configured");
    for (const auto& v : cfg_.vrrpInstances) createInstance(v);
    formGroups();
    for (auto& [name, inst] : instances_) inst->start();
    startScripts();
    announce();
    statsTimer_ = std::make_unique<asio::steady_timer>(io_);
    publishStats();
}

protocol::InstanceStatus VrrpWorker::statusOf(const vrrp::Instance& inst) const {
    const auto& c = inst.config();
    protocol::InstanceStatus s;
    s.name = c.name;
    s.state = inst.state();
    s.interface = c.interface;
    s.vrid = c.vrid;
    s.version = c.version;
    s.family = c.family;
    s.priority = c.priority;
    s.effectivePriority = inst.effectivePriority();
    if (inst.state() != vrrp::State::Master) s.masterSeen = inst.masterSeen();
    for (const auto& g : cfg_.syncGroups)
        if (std::find(g.members.begin(), g.members.end(), c.name) != g.members.end()) s.syncGroup = g.name;
    s.advertsSent = inst.advertsSent();
    s.advertsReceived = inst.advertsReceived();
    s.announcementsSent = inst.announcementsSent();
    if (auto it = transitions_.find(c.name); it != transitions_.end()) s.transitions = it->second;
    s.drops = inst.drops();
    return s;
}

void VrrpWorker::publishStats() {
    for (const auto& [name, inst] : instances_) {
        protocol::InstanceStatus st = statusOf(*inst);
        auto it = published_.find(name);
        if (it != published_.end() && it->second == st) continue;
        peer_.send(protocol::InstanceStatusMsg{st});
        published_[name] = std::move(st);
    }
    statsTimer_->expires_after(std::chrono::seconds(1));
    statsTimer_->async_wait([this](const boost::system::error_code& ec) {
        if (!ec) publishStats();
    });
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
            auto it = std::find_if(cfg_.vrrpScripts.begin(), cfg_.vrrpScripts.end(),
                                   [&](const auto& s) { return s.name == ts.script; });
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
    spec.timeout = std::chrono::duration_cast<std::chrono::microseconds>(t.cfg.timeout);
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
        s.timer->expires_after(s.cfg.interval);
        s.timer->async_wait([this, name](const boost::system::error_code& ec) {
            if (!ec) runScript(name);
        });
    });
}

// keepalived's rules: weight 0 and failing = FAULT; weight > 0 added while it succeeds; weight < 0
// added while it fails.
void VrrpWorker::applyScripts(const std::string& instance) {
    auto inst = instances_.find(instance);
    auto cfgIt = std::find_if(cfg_.vrrpInstances.begin(), cfg_.vrrpInstances.end(),
                              [&](const auto& v) { return v.name == instance; });
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
    for (const auto& v : cfg_.vrrpInstances) peer_.send(protocol::RoleMsg{v.name, roles_[v.name]});
}

void VrrpWorker::reload(conf::Config next) {
    const ReloadPlan plan = planReload(cfg_, next);
    groups_.clear();  // formed again below, over the current members
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
    std::vector<vrrp::Instance*> fresh;
    for (const auto& v : cfg_.vrrpInstances)
        if (!instances_.contains(v.name)) {
            createInstance(v);
            fresh.push_back(instances_[v.name].get());
        }
    formGroups();
    for (auto* inst : fresh) inst->start();
    published_.clear();  // the lvs worker may have dropped removed ones: send everything again
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
    if (statsTimer_) statsTimer_->cancel();
    for (auto& [name, inst] : instances_) inst->stop();
    groups_.clear();
    instances_.clear();
}

}  // namespace director
