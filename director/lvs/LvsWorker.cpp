#include "director/lvs/LvsWorker.h"

#include <cstdio>

#include "base/Log.h"
#include "conf/Validate.h"
#include "director/lvs/DesiredState.h"
#include "director/lvs/Planes.h"
#include "director/lvs/ReloadPlanner.h"

namespace director::lvs {

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer)
    : LvsWorker(io, std::move(cfg), std::move(table), peer,
                Deps{std::make_unique<base::CoalescedTimerFactory>(io), std::make_unique<AsioProbeFactory>(io),
                     std::make_unique<ProcessCommandRunner>(io)}) {}

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer,
                     Deps deps)
    : io_(io), cfg_(std::move(cfg)), table_(std::move(table)), reconciler_(*table_), deps_(std::move(deps)),
      health_(std::make_unique<HealthMonitor>(*deps_.timers, *deps_.probes, *deps_.commands,
                                              [this](const std::set<kmod::ServiceKey>& s) { requestRecompute(s); })),
      peer_(peer), resyncTimer_(io), sync_(io, *table_), mailer_(io),
      bfdRelay_(io, [this](const std::string& name, bool up) { toSupervisor_(protocol::BfdStateMsg{name, up}); }) {
    health_->setMailer(&mailer_);
    sync_.configure(cfg_.global.syncDaemon);
    peer_.onMessage([this](protocol::Message&& m) { handle(std::move(m)); });
    toSupervisor_ = [this](const protocol::Message& m) { peer_.send(m); };
    rampTimer_ = deps_.timers->makeTimer();
}

void LvsWorker::setFront(Channel& front) {
    front_ = &front;
    front_->onMessage([this](protocol::Message&& m) { handle(std::move(m)); });
}

void LvsWorker::setOperatorState(const protocol::OperatorMsg& state) {
    operator_.restore(state);
    pruneDisabled();
}

// The worker's parts, in the order a config reaches them (BIRD's reconfigure()): each gets the
// reload's plan (null at start: everything is new) and says what it changed, for the log.
std::vector<LvsWorker::Part> LvsWorker::parts() {
    return {
        {"operator", [this](const ReloadPlan* plan) {  // disables of real servers the config lost end
             return plan ? pruneDisabled() : std::string();
         }},
        {"plane settings", [this](const ReloadPlan*) {  // IPVS timeouts, the userspace plane's limits
             applyPlaneSettings(*table_, cfg_);
             return std::string();
         }},
        {"scripts", [this](const ReloadPlan*) {
             deps_.commands->setScriptSecurity(cfg_.global.scriptSecurity);
             return std::string();
         }},
        {"mail", [this](const ReloadPlan*) {
             mailer_.configure(cfg_);
             return std::string();
         }},
        {"sync", [this](const ReloadPlan* plan) {
             if (plan) sync_.configure(cfg_.global.syncDaemon);
             return std::string();
         }},
        {"bfd", [this](const ReloadPlan*) {  // the sessions VRRP tracks (checks' are the checks' own)
             bfdRelay_.configure(cfg_);
             return std::string();
         }},
        {"checks", [this](const ReloadPlan* plan) {
             // a global change (script_user...) may reach every check; else only what the plan touched
             health_->configure(cfg_, plan && !plan->globalChanged ? &plan->vsTouched : nullptr);
             updateSuspension();
             return std::string();
         }},
        {"table", [this](const ReloadPlan* plan) {
             // at a reload only the services the plan touched (health that changed meanwhile asks
             // for its own)
             const auto out = recompute(plan ? &plan->vsTouched : nullptr);
             return std::to_string(out.ops.size()) + " table ops";
         }},
        {"announce", [this](const ReloadPlan*) {
             announcing_.configure(cfg_.global.announce, table_->name() == "kernel");
             announce(true);
             return std::string();
         }},
        {"snmp", [this](const ReloadPlan*) {
             configureSnmp();
             snmpNotice(nullptr);
             return std::string();
         }},
    };
}

std::string LvsWorker::reconfigure(const ReloadPlan* plan) {
    std::string changed;
    for (const auto& part : parts()) {
        const std::string what = part.reconfigure(plan);
        if (!what.empty()) changed += (changed.empty() ? "" : "; ") + what;
    }
    return changed;
}

void LvsWorker::start() {
    const std::string changed = reconfigure(nullptr);
    const auto& desired = reconciler_.desired();
    base::log::info("lvs: started on the ", table_->name(), " table: ", desired.services.size(), " virtual servers, ",
                    desired.destCount(), " real servers, ", health_->sessionCount(), " checks");
    scheduleResync();
    sync_.start();
    applied("running: " + std::to_string(desired.services.size()) + " virtual servers, " +
            std::to_string(desired.destCount()) + " real servers, " + std::to_string(cfg_.vrrpInstances.size()) +
            " VRRP instances");
}

void LvsWorker::applied(const std::string& summary) {
    lastApplied_ = summary;
    toSupervisor_(protocol::AppliedMsg{summary});
}

void LvsWorker::requestRecompute(const std::set<kmod::ServiceKey>& services) {
    pendingServices_.insert(services.begin(), services.end());
    if (recomputePending_) return;
    recomputePending_ = true;
    asio::post(io_, [this] {
        recomputePending_ = false;
        const auto only = std::move(pendingServices_);
        pendingServices_.clear();
        if (stopped_) return;
        recompute(&only);
        snmpNotice(&only);
        announce();
    });
}

ReconcileOutcome LvsWorker::recompute(const std::set<kmod::ServiceKey>* only) {
    const HealthView& health = health_->view();
    for (const auto& c : quorum_.update(cfg_, health, operator_.disabledIds(), only)) {
        const auto& vs = *c.vs;
        base::log::warning("check: vs ", vs.str(), ": quorum ", c.up ? "regained" : "lost", " (live weight ",
                           c.liveWeight, ", quorum ", vs.quorum, ", hysteresis ", vs.hysteresis, ")",
                           !c.up && vs.sorryServer ? "; the sorry server takes over" : "");
        quorumChanges_.emplace_back(c.key, c.up);
        if (vs.smtpAlert && mailer_.enabled()) {  // keepalived's check/ipwrapper.c do_vs_notifies
            const long threshold = vs.quorum + (c.up ? 1 : -1) * vs.hysteresis;
            mailer_.send("Virtualserver " + HealthMonitor::trio(vs) + " - " + (c.up ? "UP" : "DOWN"),
                         std::string("=> ") + (c.up ? "Gained quorum " : "Lost quorum ") + std::to_string(vs.quorum) +
                             "+" + std::to_string(vs.hysteresis) + "=" + std::to_string(threshold) + " <= " +
                             std::to_string(c.liveWeight) + " <=");
        }
        const conf::Command& cmd = c.up ? vs.quorumUp : vs.quorumDown;
        if (!cmd.empty())
            deps_.commands->run(cmd, cfg_.global.scriptUser,
                                std::string(c.up ? "quorum_up" : "quorum_down") + " for vs " + vs.str());
    }
    HealthView view;
    view.quorumLost = quorum_.lost(only);
    if (only) {
        // the services of `only` as health has them (the view's servers are all of them: a lookup)
        const HealthView& h = health_->view();
        HealthView part;
        part.quorumLost = view.quorumLost;
        for (const auto& k : *only) {
            auto it = h.servers.lower_bound({k, kmod::DestKey{}});
            for (; it != h.servers.end() && it->first.first == k; ++it) part.servers.insert(*it);
        }
        markOperator(part, only);
        return reconciler_.setDesiredFor(*only, desiredTable(cfg_, part, *only));
    }
    view.servers = health.servers;
    markOperator(view, nullptr);
    return reconciler_.setDesired(desiredTable(cfg_, view));
}

// ha_suspend: a virtual server's checks run only while this director holds its address, i.e.
// while a VRRP instance that carries the address is MASTER. Addresses no instance carries are held.
void LvsWorker::updateSuspension() {
    for (const auto& vs : cfg_.virtualServers) {
        bool managed = false, held = false;
        if (vs.haSuspend && vs.address) {
            for (const auto& inst : cfg_.vrrpInstances)
                for (const auto* list : {&inst.virtualAddresses, &inst.excludedAddresses})
                    for (const auto& va : *list)
                        if (va.prefix.address == *vs.address) {
                            managed = true;
                            auto it = vrrpRoles_.find(inst.name);
                            held |= it != vrrpRoles_.end() && it->second == ::vrrp::State::Master;
                        }
        }
        health_->setSuspended(serviceKey(vs), managed && !held);
    }
}

void LvsWorker::reload(conf::Config next) {
    const ReloadPlan plan = planReload(cfg_, next);
    if (next.global.dataPlane != cfg_.global.dataPlane)
        base::log::warning("reload: data_plane changed from ", conf::name(cfg_.global.dataPlane), " to ",
                           conf::name(next.global.dataPlane), "; that takes effect when directord restarts");
    const bool resyncChanged = next.global.resyncInterval != cfg_.global.resyncInterval;
    next.global.dataPlane = cfg_.global.dataPlane;
    std::swap(cfg_, next);  // `next` now holds the old config: freed once the new one is applied
    ++reloads_;
    const std::string changed = reconfigure(&plan);
    base::log::info("reload: ", cfg_.file, " applied: ", plan.summary(), "; ", changed);
    if (resyncChanged) scheduleResync();
    applied("reloaded: " + plan.summary() + "; " + changed);
}

void LvsWorker::announce(bool force) {
    announcing_.update(cfg_, quorum_.states(), operator_.withdrawn() || stopped_, vrrpRoles_, force);
}

void LvsWorker::scheduleResync() {
    resyncTimer_.cancel();
    resyncTimer_.expires_after(cfg_.global.resyncInterval);
    resyncTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        ++resyncs_;
        reconciler_.resync();
        announce(true);  // a route deleted behind our back comes back too
        scheduleResync();
    });
}

void LvsWorker::stop() {
    if (stopped_) return;
    stopped_ = true;
    resyncTimer_.cancel();
    if (announcing_.active()) {  // first: the routers send nothing more here while the rest stops
        announce();
        base::log::info("announce: stopping: every VIP withdrawn");
    }
    if (snmpTimer_) snmpTimer_->cancel();
    sync_.stop();
    health_->stop();
    for (const auto& vs : cfg_.virtualServers) {
        if (!vs.omega) continue;
        if (!vs.quorumDown.empty())
            deps_.commands->run(vs.quorumDown, cfg_.global.scriptUser, "quorum_down (omega) for vs " + vs.str());
    }
    bool anyOmega = false;
    for (const auto& vs : cfg_.virtualServers) anyOmega |= vs.omega;
    if (anyOmega) health_->runShutdownNotifiers();
    switch (cfg_.global.flushOnStop) {
    case conf::FlushOnStop::Created: {
        const auto out = reconciler_.releaseOwned();
        base::log::info("lvs: stopping: removed the ", out.result.applied, " virtual servers directord created");
        break;
    }
    case conf::FlushOnStop::All:
        if (auto ec = table_->flush()) base::log::error("lvs: stopping: flush failed: ", ec.message());
        else base::log::info("lvs: stopping: flushed the whole table (flush_on_stop = \"all\")");
        break;
    case conf::FlushOnStop::None:
        base::log::info("lvs: stopping: leaving the table as it is (flush_on_stop = \"none\")");
        break;
    }
}

void LvsWorker::handle(protocol::Message&& m) {
    if (auto* c = std::get_if<protocol::ConfigMsg>(&m)) return reload(std::move(c->config));
    if (auto* r = std::get_if<protocol::RoleMsg>(&m)) return onRole(*r);
    if (auto* s = std::get_if<protocol::InstanceStatusMsg>(&m)) {
        vrrpStatus_[s->status.name] = std::move(s->status);
        snmpDirty_ = true;
        return;
    }
    if (auto* p = std::get_if<protocol::PlaneReportMsg>(&m)) {
        if (remote_) remote_->onReport(std::move(*p));
        return;
    }
    if (auto* r = std::get_if<protocol::StatusRequestMsg>(&m)) return answerStatus(*r);
    if (auto* f = std::get_if<protocol::FrontStatsMsg>(&m)) return onFrontStats(*f);
    if (auto* st = std::get_if<protocol::SupervisorStatsMsg>(&m)) {
        supervisor_ = std::move(*st);
        return;
    }
    if (auto* r = std::get_if<protocol::ReloadResultMsg>(&m)) {
        auto it = reloadReplies_.find(r->id);
        if (it == reloadReplies_.end()) return;
        auto reply = std::move(it->second);
        reloadReplies_.erase(it);
        std::string err;
        for (const auto& e : r->errors) err += e + "\n";
        if (!r->applied) return reply(protocol::ControlReply{protocol::kCtlRefused, "", err});
        return reply(protocol::ControlReply{protocol::kCtlOk, cfg_.file + ": " + lastApplied_ + "\n", err});
    }
    base::log::debug("lvs: ignoring a message of type ", static_cast<int>(protocol::typeOf(m)));
}

void LvsWorker::onRole(const protocol::RoleMsg& role) {
    auto& cur = vrrpRoles_[role.instance];
    if (cur != role.state)
        base::log::debug("lvs: vrrp instance ", role.instance, " is now ", ::vrrp::stateName(role.state));
    const bool changed = cur != role.state;
    cur = role.state;
    if (changed) snmpRole(role.instance, role.state);
    updateSuspension();
    sync_.onRole(role.instance, role.state);
    if (changed) announce();
}


}  // namespace director::lvs
