#include "director/vrrp/VrrpWorker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/Log.h"
#include "healthcheck/ScriptProbe.h"

namespace director::vrrp {

VrrpWorker::VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer, std::map<std::string, ::vrrp::State> resume,
                       const std::map<std::string, bool>& bfd)
    : io_(io), timers_(io), host_(io), cfg_(std::move(cfg)), peer_(peer), resume_(std::move(resume)),
      runner_(std::make_unique<ProcessCommandRunner>(io)), mailer_(io),
      trackers_(makeTrackerKinds(io, [this] {
          for (const auto& v : cfg_.vrrpInstances) applyTracking(v.name);
      })) {
    peer_.onMessage([this](protocol::Message&& m) {
        if (auto* c = std::get_if<protocol::ConfigMsg>(&m)) return reload(std::move(c->config));
        bool moved = false;
        for (auto& k : trackers_) moved = k->heard(m) || moved;
        if (moved) {
            for (const auto& v : cfg_.vrrpInstances) applyTracking(v.name);
            return;
        }
        if (std::holds_alternative<protocol::BfdStateMsg>(m)) return;
        base::log::debug("vrrp: ignoring a message of type ", static_cast<int>(protocol::typeOf(m)));
    });
    for (const auto& [name, up] : bfd)  // before any instance starts: no FAULT while waiting to hear them
        for (auto& k : trackers_) k->heard(protocol::BfdStateMsg{name, up});
    if (!resume_.empty())
        for (auto& k : trackers_) k->resuming();
}

::vrrp::Instance& VrrpWorker::createInstance(const conf::VrrpInstance& v) {
    roles_[v.name] = ::vrrp::State::Init;
    const std::string name = v.name;
    auto inst = std::make_unique<::vrrp::Instance>(
        timers_, host_, v, [this, name](const std::string&, ::vrrp::State, ::vrrp::State to) {
            roles_[name] = to;
            ++transitions_[name];
            lastTransition_[name] = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
            auto it = instances_.find(name);
            // the counters and the reason as of this transition first (SNMP's new-master traps
            // carry them), then the role
            if (it != instances_.end()) publishStatus(*it->second);
            peer_.send(protocol::RoleMsg{name, to});
            if (it != instances_.end())
                notify(it->second->config().notify, "INSTANCE", name, to, it->second->config().priority);
        });
    // keepalived's send_event_notify: the script (no arguments) and the fifo line, no mail
    inst->onEvent([this](const std::string& who, const char* event) {
        auto it = instances_.find(who);
        if (it == instances_.end()) return;
        const auto& c = it->second->config();
        if (!c.notifyMasterRxLowerPri.empty())
            queueFor("INSTANCE " + who)
                .push({{c.notifyMasterRxLowerPri, cfg_.global.scriptUser,
                        std::string("notify ") + event + " for vrrp instance " + who}});
        writeFifo("INSTANCE", who, event, it->second->effectivePriority());
    });
    auto& ref = *inst;
    instances_[v.name] = std::move(inst);
    return ref;
}

// Each instance learns its siblings' VRIDs (same interface and family): their adverts are theirs,
// not wrong-VRID errors of this one.
void VrrpWorker::shareVrids() {
    for (auto& [name, inst] : instances_) {
        std::set<int> others;
        const auto& me = inst->config();
        for (const auto& [other, o] : instances_)
            if (other != name && o->config().interface == me.interface && o->config().family == me.family)
                others.insert(o->config().vrid);
        inst->setSiblings(std::move(others));
    }
}

// Sync groups are formed before their members start (a member must never take the VIPs alone);
// after a reload an unchanged group keeps its object (and the state it reported) over its members
// as they now are.
void VrrpWorker::formGroups() {
    std::map<std::string, std::unique_ptr<::vrrp::InstanceGroup>> next;
    for (const auto& g : cfg_.syncGroups) {
        std::vector<::vrrp::GroupMember*> members;
        for (const auto& m : g.members)
            if (auto it = instances_.find(m); it != instances_.end()) members.push_back(it->second.get());
        auto old = groups_.find(g.name);
        if (old != groups_.end()) {
            old->second->setMembers(members);
            next.emplace(g.name, std::move(old->second));
            groups_.erase(old);
            continue;
        }
        const std::string name = g.name;
        next.emplace(g.name, std::make_unique<::vrrp::InstanceGroup>(g.name, members,
                                                                   [this, name](const std::string&, ::vrrp::State to) {
                                                                       for (const auto& sg : cfg_.syncGroups)
                                                                           if (sg.name == name)
                                                                               notify(sg.notify, "GROUP", name, to, 0);
                                                                   }));
    }
    groups_ = std::move(next);  // groups no longer configured let their members go
}

NotifyQueue& VrrpWorker::queueFor(const std::string& key) {
    auto& q = queues_[key];
    if (!q) q = std::make_unique<NotifyQueue>(*runner_);
    return *q;
}

void VrrpWorker::notify(const conf::NotifyConfig& n, const std::string& kind, const std::string& name, ::vrrp::State to,
                        int priority) {
    const char* state = to == ::vrrp::State::Init ? "STOP" : ::vrrp::stateName(to);
    const conf::Command* script = to == ::vrrp::State::Master   ? &n.master
                                  : to == ::vrrp::State::Backup ? &n.backup
                                  : to == ::vrrp::State::Fault  ? &n.fault
                                                              : &n.stop;
    const std::string what = kind == "GROUP" ? "sync group" : "vrrp instance";
    const std::string why = std::string("notify ") + state + " for " + what + " " + name;
    NotifyQueue::Job job;
    if (!script->empty()) job.push_back({*script, cfg_.global.scriptUser, why});
    if (!n.generic.empty()) {
        conf::Command generic = n.generic;
        for (const std::string& a : {kind, name, std::string(state), std::to_string(priority)})
            generic.argv.push_back(a);
        job.push_back({generic, cfg_.global.scriptUser, why});
    }
    queueFor(kind + " " + name).push(std::move(job));
    writeFifo(kind, name, state, priority);
    // keepalived's smtp_alert mail (vrrp/vrrp_notify.c)
    bool mail = false;
    if (kind == "GROUP") {
        for (const auto& g : cfg_.syncGroups) mail |= g.name == name && g.smtpAlert;
    } else {
        for (const auto& v : cfg_.vrrpInstances) mail |= v.name == name && v.smtpAlert;
    }
    if (!mail || !mailer_.enabled()) return;
    const char* entering = to == ::vrrp::State::Master   ? "Entering MASTER state"
                           : to == ::vrrp::State::Backup ? "Entering BACKUP state"
                           : to == ::vrrp::State::Fault  ? "Entering FAULT state"
                                                         : "Stopping";
    if (kind == "GROUP") mailer_.send(Mailer::groupSubject(name, entering), Mailer::groupBody(entering));
    else mailer_.send(Mailer::instanceSubject(name, entering), Mailer::instanceBody(entering));
}

// keepalived's notify_fifo line: TYPE "name" STATE priority
void VrrpWorker::writeFifo(const std::string& kind, const std::string& name, const std::string& state, int priority) {
    if (cfg_.global.notifyFifo.empty()) return;
    const std::string line = kind + " \"" + name + "\" " + state + " " + std::to_string(priority) + "\n";
    // a fifo without a reader is skipped (O_NONBLOCK: ENXIO), never waited for; a reader that
    // left (EPIPE) is looked for again at the next transition
    if (fifo_ < 0) {
        fifo_ = ::open(cfg_.global.notifyFifo.c_str(), O_WRONLY | O_NONBLOCK | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        struct stat st {};
        if (fifo_ >= 0 && (::fstat(fifo_, &st) != 0 || !S_ISFIFO(st.st_mode))) {
            if (!saidNotFifo_)
                base::log::error("vrrp: notify_fifo ", cfg_.global.notifyFifo,
                                 " is not a FIFO; nothing is written to it (mkfifo it, or fix global.notify_fifo)");
            saidNotFifo_ = true;
            ::close(fifo_);
            fifo_ = -1;
        }
    }
    if (fifo_ < 0) return;
    if (::write(fifo_, line.data(), line.size()) < 0) {
        base::log::debug("vrrp: notify fifo: ", std::strerror(errno));
        ::close(fifo_);
        fifo_ = -1;
    }
}

std::set<std::string> VrrpWorker::scriptUsers() const {
    std::set<std::string> users{cfg_.global.scriptUser};
    for (const auto& s : cfg_.vrrpScripts)
        if (!s.user.empty()) users.insert(s.user);
    return users;
}

void VrrpWorker::start() {
    mailer_.configure(cfg_);
    if (!host_.start())
        base::log::error("vrrp: no view of the links and addresses (rtnetlink); instances cannot start");
    runner_->resolve(scriptUsers());
    runner_->setScriptSecurity(cfg_.global.scriptSecurity);
    if (cfg_.vrrpInstances.empty()) base::log::info("vrrp: no vrrp_instances configured");
    for (const auto& v : cfg_.vrrpInstances) createInstance(v);
    formGroups();
    shareVrids();
    if (resume_.empty()) computeStartupHold();  // a restarted worker picks up where it was: no delay
    for (auto& [name, inst] : instances_) {
        auto it = resume_.find(name);
        if (holdUntil_ && it == resume_.end()) inst->holdMaster(*holdUntil_);
        inst->start(it != resume_.end() ? std::optional<::vrrp::State>(it->second) : std::nullopt);
        // resumed in the state it had, an instance reports no transition: its role is that state
        // (announce() below tells the supervisor; INIT here made a second restart resume as INIT)
        roles_[name] = inst->state();
    }
    resume_.clear();
    applyStaticAddresses({});
    applyStaticRoutes({}, {});
    configureTrackers();
    announce();
    statsTimer_ = std::make_unique<asio::steady_timer>(io_);
    publishStats();
}

protocol::InstanceStatus VrrpWorker::statusOf(const ::vrrp::Instance& inst) const {
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
    if (inst.state() != ::vrrp::State::Master) s.masterSeen = inst.masterSeen();
    for (const auto& g : cfg_.syncGroups)
        if (std::find(g.members.begin(), g.members.end(), c.name) != g.members.end()) s.syncGroup = g.name;
    s.advertsSent = inst.advertsSent();
    s.advertsReceived = inst.advertsReceived();
    s.announcementsSent = inst.announcementsSent();
    if (auto it = transitions_.find(c.name); it != transitions_.end()) s.transitions = it->second;
    if (auto it = lastTransition_.find(c.name); it != lastTransition_.end()) s.lastTransition = it->second;
    s.drops = inst.drops();
    const auto& link = inst.link();
    s.ifindex = link.index;
    s.mac = link.mac;
    s.primary = c.family == base::Family::V4 ? link.primaryV4 : link.linkLocalV6;
    s.source = inst.sourceAddress();
    s.masterTransitions = inst.masterTransitions();
    s.masterReason = static_cast<int>(inst.masterReason());
    s.priorityZeroSent = inst.priorityZeroSent();
    s.priorityZeroReceived = inst.priorityZeroReceived();
    s.claimsHeard = inst.claimsHeard();
    s.claimsAnswered = inst.claimsDefended();
    s.protocolErrorReason = inst.protocolErrorReason();
    if (const auto& up = inst.upSince())
        s.upSinceMs = std::chrono::duration_cast<std::chrono::milliseconds>(up->time_since_epoch()).count();
    for (const auto& kind : trackers_) kind->states(c, s.scripts);
    return s;
}

void VrrpWorker::publishStatus(const ::vrrp::Instance& inst) {
    protocol::InstanceStatus st = statusOf(inst);
    auto it = published_.find(st.name);
    if (it != published_.end() && it->second == st) return;
    peer_.send(protocol::InstanceStatusMsg{st});
    published_[st.name] = std::move(st);
}

void VrrpWorker::publishStats() {
    for (const auto& [name, inst] : instances_) publishStatus(*inst);
    restoreStaticAddresses();  // the link watcher's state, no syscall
    restoreStaticRoutes();     // only when one of ours was deleted (rtnetlink events)
    statsTimer_->expires_after(std::chrono::seconds(1));
    statsTimer_->async_wait([this](const boost::system::error_code& ec) {
        if (!ec) publishStats();
    });
}

// keepalived's vrrp_startup_delay, and vrrp_delay_after_boot counted from the host's boot
// (/proc/uptime): the longer wait wins.
void VrrpWorker::computeStartupHold() {
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(cfg_.global.vrrpStartupDelay);
    if (cfg_.global.vrrpDelayAfterBoot.count() > 0) {
        double uptime = 0;
        if (std::FILE* f = std::fopen("/proc/uptime", "re")) {
            if (std::fscanf(f, "%lf", &uptime) != 1) uptime = 0;
            std::fclose(f);
        }
        const auto sinceBoot = std::chrono::microseconds(static_cast<std::int64_t>(uptime * 1e6));
        const auto afterBoot = std::chrono::duration_cast<std::chrono::microseconds>(cfg_.global.vrrpDelayAfterBoot);
        if (uptime > 0 && sinceBoot < afterBoot) wait = std::max(wait, afterBoot - sinceBoot);
    }
    if (wait.count() <= 0 || cfg_.vrrpInstances.empty()) return;
    holdUntil_ = timers_.now() + wait;
    base::log::notice("vrrp: startup delay ", base::toSeconds(std::chrono::duration_cast<base::Duration>(wait)), " s (vrrp_startup_delay / vrrp_delay_after_boot): "
                      "the instances listen as backups and none becomes master before then");
}

// static_routes and static_rules: present while directord runs (keepalived's), whatever the
// instances' states; a reload removes the ones it drops and (re)adds the rest.
void VrrpWorker::applyStaticRoutes(const std::vector<conf::VirtualRoute>& before,
                                   const std::vector<conf::VirtualRule>& rulesBefore) {
    for (const auto& r : rulesBefore)
        if (std::find(cfg_.staticRules.begin(), cfg_.staticRules.end(), r) == cfg_.staticRules.end())
            (void)host_.removeRule(r);
    for (const auto& r : before)
        if (std::find(cfg_.staticRoutes.begin(), cfg_.staticRoutes.end(), r) == cfg_.staticRoutes.end())
            (void)host_.removeRoute(r, r.dev.empty() ? 0 : host_.ifindex(r.dev));
    for (const auto& r : cfg_.staticRules)  // rules first: a route may live in the table they pick
        if (auto ec = host_.addRule(r))
            base::log::error("vrrp: static rule ", conf::ruleText(r), ": ", ec.message());
    for (const auto& r : cfg_.staticRoutes)
        if (auto ec = host_.addRoute(r, r.dev.empty() ? 0 : host_.ifindex(r.dev)))
            base::log::error("vrrp: static route to ", r.to.str(), r.via ? " via " + r.via->str() : std::string(),
                             ": ", ec.message(), "; check that its gateway and interface exist");
}

// static_addresses: the same life as static routes (keepalived's static_ipaddress), addresses
// before routes that may use them as a source.
void VrrpWorker::applyStaticAddresses(const std::vector<conf::VirtualAddress>& before) {
    for (const auto& a : before)
        if (std::find(cfg_.staticAddresses.begin(), cfg_.staticAddresses.end(), a) == cfg_.staticAddresses.end())
            if (const int idx = host_.ifindex(a.dev)) (void)host_.removeAddress(idx, a.prefix);
    for (const auto& a : cfg_.staticAddresses) {
        const int idx = host_.ifindex(a.dev);
        const auto ec = idx ? host_.addAddress(idx, a.prefix, a.label, a.scope)
                            : std::make_error_code(std::errc::no_such_device);
        if (ec)
            base::log::error("vrrp: static address ", a.prefix.str(), " on ", a.dev, ": ", ec.message(),
                             "; it is added when the interface appears");
    }
}

void VrrpWorker::restoreStaticAddresses() {
    for (const auto& a : cfg_.staticAddresses) {
        const int idx = host_.ifindex(a.dev);
        if (!idx || host_.hasAddress(idx, a.prefix.address)) continue;
        if (!host_.addAddress(idx, a.prefix, a.label, a.scope))
            base::log::warning("vrrp: static address ", a.prefix.str(), " on ", a.dev,
                               " was missing (deleted, or its interface came back): added again");
    }
}

// A static route or rule deleted by someone else is added back (keepalived's), once the route
// watch has seen a deletion of ours since the last pass.
void VrrpWorker::restoreStaticRoutes() {
    const auto seen = host_.routeDeletions();
    if (seen == routeDeletionsSeen_) return;
    routeDeletionsSeen_ = seen;
    for (const auto& r : cfg_.staticRules)
        if (host_.restoreRule(r))
            base::log::warning("vrrp: static rule ", conf::ruleText(r), " was deleted: added again");
    for (const auto& r : cfg_.staticRoutes)
        if (host_.restoreRoute(r, r.dev.empty() ? 0 : host_.ifindex(r.dev)))
            base::log::warning("vrrp: static route to ", r.to.str(), " was deleted: added again");
}

void VrrpWorker::configureTrackers() {
    for (auto& kind : trackers_) kind->configure(cfg_);
    for (const auto& v : cfg_.vrrpInstances) applyTracking(v.name);  // positive weights count from the start
}

void VrrpWorker::applyTracking(const std::string& instance) {
    auto inst = instances_.find(instance);
    auto cfgIt = std::find_if(cfg_.vrrpInstances.begin(), cfg_.vrrpInstances.end(),
                              [&](const auto& v) { return v.name == instance; });
    if (inst == instances_.end() || cfgIt == cfg_.vrrpInstances.end()) return;
    Tracking sum;
    for (const auto& kind : trackers_) {
        const Tracking t = kind->tracking(*cfgIt);
        sum.delta += t.delta;
        sum.fault |= t.fault;
    }
    inst->second->setTracking(sum.delta, sum.fault);
}

void VrrpWorker::announce() {
    for (const auto& v : cfg_.vrrpInstances) peer_.send(protocol::RoleMsg{v.name, roles_[v.name]});
}

// One plan per instance, logged: kept (the same), reconfigured (in place, state kept), restarted
// (its identity changed: the old one leaves cleanly, a new one starts), added, removed.
void VrrpWorker::reload(conf::Config next) {
    std::vector<std::string> kept, reconfigured, restarted, added, removed;
    std::map<std::string, const conf::VrrpInstance*> wanted;
    for (const auto& v : next.vrrpInstances) wanted.emplace(v.name, &v);
    for (auto it = instances_.begin(); it != instances_.end();) {
        auto w = wanted.find(it->first);
        const bool gone = w == wanted.end();
        if (!gone && it->second->state() != ::vrrp::State::Init) {
            switch (it->second->reconfigure(*w->second)) {
            case ::vrrp::Instance::Reload::Kept:
                kept.push_back(it->first);
                ++it;
                continue;
            case ::vrrp::Instance::Reload::Reconfigured:
                reconfigured.push_back(it->first);
                ++it;
                continue;
            case ::vrrp::Instance::Reload::Restart: break;
            }
        }
        // (an instance that never started, for want of its interface, is tried again too)
        (gone ? removed : restarted).push_back(it->first);
        it->second->stop();
        if (gone) roles_.erase(it->first);
        it = instances_.erase(it);
    }
    const auto oldRoutes = cfg_.staticRoutes;
    const auto oldRules = cfg_.staticRules;
    const auto oldAddresses = cfg_.staticAddresses;
    cfg_ = std::move(next);
    mailer_.configure(cfg_);
    applyStaticAddresses(oldAddresses);
    applyStaticRoutes(oldRoutes, oldRules);
    runner_->resolve(scriptUsers());
    runner_->setScriptSecurity(cfg_.global.scriptSecurity);
    std::vector<::vrrp::Instance*> fresh;
    for (const auto& v : cfg_.vrrpInstances)
        if (!instances_.contains(v.name)) {
            if (std::find(restarted.begin(), restarted.end(), v.name) == restarted.end()) added.push_back(v.name);
            fresh.push_back(&createInstance(v));
        }
    formGroups();
    shareVrids();
    for (auto* inst : fresh) {
        if (holdUntil_ && timers_.now() < *holdUntil_) inst->holdMaster(*holdUntil_);  // still in the window
        inst->start();
    }
    published_.clear();  // the lvs worker may have dropped removed ones: send everything again
    configureTrackers();
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& n : v) s += (s.empty() ? " (" : ", ") + n;
        return v.empty() ? s : s + ")";
    };
    base::log::info("reload: vrrp: ", kept.size(), " instances kept, ", reconfigured.size(), " reconfigured in place",
                    list(reconfigured), ", ", restarted.size(), " restarted", list(restarted), ", ", added.size(),
                    " added", list(added), ", ", removed.size(), " removed", list(removed));
    announce();
}

VrrpWorker::~VrrpWorker() {
    if (fifo_ >= 0) ::close(fifo_);
}

void VrrpWorker::stop() {
    base::log::info("vrrp: stopping");
    for (auto& kind : trackers_) kind->stop();
    if (statsTimer_) statsTimer_->cancel();
    for (auto& [name, inst] : instances_) inst->stop();
    for (const auto& r : cfg_.staticRoutes)  // keepalived removes its static routes when it stops
        (void)host_.removeRoute(r, r.dev.empty() ? 0 : host_.ifindex(r.dev));
    for (const auto& r : cfg_.staticRules)  // ... its static rules
        (void)host_.removeRule(r);
    for (const auto& a : cfg_.staticAddresses)  // ... and its static addresses
        if (const int idx = host_.ifindex(a.dev)) (void)host_.removeAddress(idx, a.prefix);
    groups_.clear();
    instances_.clear();
}

}  // namespace director::vrrp
