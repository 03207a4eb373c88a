#include "director/lvs/LvsWorker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "base/Json.h"
#include "base/Log.h"
#include "conf/Validate.h"
#include "director/lvs/DesiredState.h"
#include "director/status/Metrics.h"
#include "director/lvs/ReloadPlanner.h"
#include "director/lvs/ServerRef.h"
#include "kmod/ipvsadm/Ipvsadm.h"

namespace director::lvs {

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer)
    : LvsWorker(io, std::move(cfg), std::move(table), peer,
                Deps{std::make_unique<base::AsioTimerFactory>(io), std::make_unique<AsioProbeFactory>(io),
                     std::make_unique<ProcessCommandRunner>(io)}) {}

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer,
                     Deps deps)
    : io_(io), cfg_(std::move(cfg)), table_(std::move(table)), reconciler_(*table_), deps_(std::move(deps)),
      health_(std::make_unique<HealthMonitor>(*deps_.timers, *deps_.probes, *deps_.commands,
                                              [this](const std::set<kmod::ServiceKey>& s) { requestRecompute(s); })),
      peer_(peer), resyncTimer_(io), sync_(io, *table_) {
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
             applyLimits();
             applyTimeouts();
             return std::string();
         }},
        {"scripts", [this](const ReloadPlan*) {
             deps_.commands->setScriptSecurity(cfg_.global.scriptSecurity);
             return std::string();
         }},
        {"sync", [this](const ReloadPlan* plan) {
             if (plan) sync_.configure(cfg_.global.syncDaemon);
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
             configureAnnounce();
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

lvs::OperatorState::UpSince LvsWorker::upSince() const {
    return [this](const RsId& id) -> std::optional<base::TimePoint> {
        if (auto since = health_->since(id); since && since->transition) return since->at;
        return std::nullopt;
    };
}

void LvsWorker::markOperator(HealthView& view, const std::set<kmod::ServiceKey>* only) {
    const base::TimePoint now = deps_.timers->now();
    const auto up = upSince();
    if (!only) ramping_.clear();
    for (const auto& vs : cfg_.virtualServers) {
        const auto key = serviceKey(vs);
        if (only && !only->contains(key)) continue;
        ramping_.erase(key);
        if (operator_.mark(view, vs, up, now)) ramping_.insert(key);
    }
    armRamp();
}

HealthView LvsWorker::operatorView() const {
    HealthView view = health_->view();
    const base::TimePoint now = deps_.timers->now();
    const auto up = upSince();
    for (const auto& vs : cfg_.virtualServers) operator_.mark(view, vs, up, now);
    return view;
}

// While a slow start runs, its services are recomputed every second (more often for short ones);
// only the weights that changed reach the table.
void LvsWorker::armRamp() {
    if (ramping_.empty() || stopped_) {
        rampTimer_->cancel();
        return;
    }
    if (rampTimer_->pending()) return;
    rampTimer_->schedule(lvs::OperatorState::rampStep(cfg_, ramping_), [this] {
        operator_.forgetOldRamps(deps_.timers->now());
        requestRecompute(ramping_);
    });
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

// Disables of real servers the config no longer has end with them (an operator who adds the server
// back gets it enabled).
std::string LvsWorker::pruneDisabled() {
    const auto ended = operator_.prune(cfg_);
    for (const auto& id : ended)
        base::log::info("control: vs ", id.first.str(), " rs ", id.second.str(),
                        ": no longer in the config; its disable ends with it");
    if (ended.empty()) return {};
    publishOperator();
    return std::to_string(ended.size()) + " disable(s) ended with their real servers";
}

void LvsWorker::publishOperator() { toSupervisor_(operator_.message()); }

// global.announce changed (or the worker starts): the routes of an old table or protocol go; at
// start, whatever a crashed run left is taken back before anything is announced again.
void LvsWorker::configureAnnounce() {
    const auto& want = cfg_.global.announce;
    if (routes_ && want.enabled && want.table == announceConfig_.table && want.protocol == announceConfig_.protocol) {
        announceConfig_ = want;
        return;
    }
    if (routes_) {
        routes_->withdrawAll();
        base::log::notice("announce: withdrew every VIP from table ", announceConfig_.table, " (the setting changed)");
    }
    routes_.reset();
    announced_.clear();
    announceConfig_ = want;
    if (!want.enabled) return;
    routes_ = std::make_unique<RouteTable>(want.table, want.protocol);
    routes_->withdrawAll();
    if (table_->name() == "kernel") {
        // A flow that ECMP moves here mid-stream arrives without a SYN: IPVS schedules it (with mh,
        // to the real server the other director chose) only with sloppy_tcp.
        bool ok = true;
        for (const char* knob : {"/proc/sys/net/ipv4/vs/sloppy_tcp", "/proc/sys/net/ipv4/vs/sloppy_sctp"}) {
            std::FILE* f = std::fopen(knob, "w");
            ok &= f && std::fputs("1\n", f) >= 0;
            if (f) std::fclose(f);
        }
        if (ok)
            base::log::info(
                "announce: net.ipv4.vs.sloppy_tcp = 1: IPVS takes over connections ECMP moves here"
                " mid-stream");
        else
            base::log::warning(
                "announce: cannot set net.ipv4.vs.sloppy_tcp; connections that ECMP moves here"
                " mid-stream will be reset");
    }
}

void LvsWorker::announce(bool force) {
    announcements_ = decideAnnouncements(cfg_, quorum_.states(), operator_.withdrawn() || stopped_, vrrpRoles_);
    if (!routes_) return;
    std::set<base::IpAddress> want;
    for (const auto& a : announcements_)
        if (a.announced) want.insert(a.vip);
    if (!force && want == announced_) return;
    std::vector<base::IpAddress> added, removed;
    if (auto ec = routes_->sync(want, &added, &removed))
        base::log::error("announce: cannot update routing table ", announceConfig_.table, ": ", ec.message(),
                         "; the routing daemon may announce what this director cannot serve");
    for (const auto& v : added)
        base::log::notice("announce: ", v.str(), " announced (table ", announceConfig_.table, ")");
    for (const auto& v : removed)
        for (const auto& a : announcements_)
            if (a.vip == v) base::log::notice("announce: ", v.str(), " withdrawn: ", a.announced ? "repair" : a.why);
    if (force && !(added.empty() && removed.empty()) && !announced_.empty())
        base::log::warning("announce: table ", announceConfig_.table,
                           " had changed behind directord's back; repaired (check what else writes it)");
    announced_ = std::move(want);
}

void LvsWorker::applyLimits() {
    const auto& u = cfg_.global.userspace;
    kmod::ForwardingLimits l;
    l.udpFlows = static_cast<std::uint32_t>(u.udpFlows);
    l.udpFlowsPerSource = static_cast<std::uint32_t>(u.udpFlowsPerSource);
    l.udpUnansweredTimeout = static_cast<std::uint32_t>(u.udpUnansweredTimeout);
    l.tcpConnections = static_cast<std::uint32_t>(u.tcpConnections);
    l.tcpConnectionsPerSource = static_cast<std::uint32_t>(u.tcpConnectionsPerSource);
    l.tcpProgressTimeout = static_cast<std::uint32_t>(u.tcpProgressTimeout);
    l.sourcePrefixV4 = static_cast<std::uint8_t>(u.sourcePrefixV4);
    l.sourcePrefixV6 = static_cast<std::uint8_t>(u.sourcePrefixV6);
    table_->setForwardingLimits(l);
}

void LvsWorker::applyTimeouts() {
    const auto& t = cfg_.global.ipvsTimeouts;
    if (!t.tcp && !t.tcpFin && !t.udp) return;
    kmod::Timeouts want{static_cast<std::uint32_t>(t.tcp), static_cast<std::uint32_t>(t.tcpFin),
                        static_cast<std::uint32_t>(t.udp)};
    if (auto ec = table_->setTimeouts(want))
        base::log::error("ipvs: cannot set timeouts (tcp ", t.tcp, " tcpfin ", t.tcpFin, " udp ", t.udp,
                         "): ", ec.message());
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
    if (routes_) {  // first: the routers send nothing more here while the rest stops
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

namespace {

void writeInstance(base::JsonWriter& w, const protocol::InstanceStatus& s) {
    w.beginObject();
    w.field("state", ::vrrp::stateName(s.state));
    w.field("interface", s.interface);
    w.field("vrid", s.vrid);
    w.field("version", s.version);
    w.field("family", s.family == base::Family::V4 ? "ipv4" : "ipv6");
    w.field("priority", s.priority);
    w.field("effective_priority", s.effectivePriority);
    if (s.state == ::vrrp::State::Master) w.field("master", "self");
    else if (s.masterSeen) w.field("master", s.masterSeen->str());
    else w.key("master").null();
    if (!s.syncGroup.empty()) w.field("sync_group", s.syncGroup);
    w.field("adverts_sent", s.advertsSent);
    w.field("adverts_received", s.advertsReceived);
    w.field("announcements_sent", s.announcementsSent);
    w.field("transitions", s.transitions);
    w.key("dropped").beginObject();
    std::uint64_t total = 0;
    for (size_t d = 0; d < s.drops.size(); ++d) {
        w.field(::vrrp::dropKey(static_cast<::vrrp::Drop>(d)), s.drops[d]);
        total += s.drops[d];
    }
    w.field("total", total);
    w.endObject();
    w.endObject();
}

}  // namespace

void LvsWorker::control(protocol::ControlRequest&& request, ControlServer::Reply reply) {
    using K = protocol::ControlRequest::Kind;
    switch (request.kind) {
    case K::Disable:
    case K::Enable: return reply(disable(request, request.kind == K::Disable));
    case K::Withdraw:
    case K::Rejoin: {
        const bool withdraw = request.kind == K::Withdraw;
        if (!cfg_.global.announce.enabled)
            return reply({protocol::kCtlRefused, "",
                          "this director announces nothing (no global.announce): nothing to withdraw\n"});
        if (!operator_.withdraw(withdraw))
            return reply({protocol::kCtlOk, withdraw ? "already withdrawn\n" : "not withdrawn\n", ""});
        base::log::notice("control: the director is ", withdraw ? "withdrawn by directorctl: every VIP withdrawn"
                                                                : "back by directorctl rejoin: VIPs announced again");
        publishOperator();
        announce();
        std::string text;
        for (const auto& a : announcements_) text += a.vip.str() + ": " + a.why + "\n";
        return reply({protocol::kCtlOk, text, ""});
    }
    case K::Reload: {
        const std::uint64_t id = nextReloadId_++;
        reloadReplies_.emplace(id, std::move(reply));
        base::log::info("control: directorctl reload: asking for ", cfg_.file, " to be read again");
        return toSupervisor_(protocol::ReloadRequestMsg{id});
    }
    default: break;
    }
    // The plane's counters and connections first (the userspace plane asks the forwarding worker).
    table_->refresh([this, request = std::move(request), reply = std::move(reply)] {
        auto text = [&](std::string out) { reply(protocol::ControlReply{protocol::kCtlOk, std::move(out), ""}); };
        switch (request.kind) {
        case K::Status: return text(request.json ? stateJson() + "\n" : renderStatus(statusReport()));
        case K::Servers: {
            if (!request.json) return text(renderServers(statusReport()));
            base::JsonWriter w;
            writeServersJson(w, statusReport());
            return text(w.str() + "\n");
        }
        case K::Vrrp: {
            if (!request.json) return text(renderVrrp(statusReport()));
            base::JsonWriter w;
            writeVrrpJson(w);
            return text(w.str() + "\n");
        }
        default: break;
        }
        protocol::ControlReply r;
        std::string error;
        int status = 2;
        if (auto cmd = kmod::parseIpvsadm(request.args, error, &status)) {
            std::istringstream input(request.input);
            const auto out = kmod::runIpvsadm(*cmd, *table_, &input);
            using C = kmod::IpvsadmCommand::Kind;
            if (cmd->kind != C::List && cmd->kind != C::Save && cmd->kind != C::Help && cmd->kind != C::Version)
                base::log::info("control: ipvsctl changed the ", table_->name(), " table (", request.args.size(),
                                " arguments); directord leaves services it does not manage alone");
            r = protocol::ControlReply{out.status, out.out, out.err};
        } else {
            r = protocol::ControlReply{status, "", error + "\n"};
        }
        reply(std::move(r));
    });
}

// directorctl disable VS RS: weight 0 (no new connections; established ones go on) until enabled,
// across reloads and restarts of this worker. enable: back to its weight, through its slow start.
protocol::ControlReply LvsWorker::disable(const protocol::ControlRequest& request, bool disable) {
    const char* verb = disable ? "disable" : "enable";
    if (request.args.size() != 2)
        return {protocol::kCtlUsage, "", std::string("usage: directorctl ") + verb + " VIRTUAL-SERVER REAL-SERVER\n"};
    std::string error;
    const auto ref = findServer(cfg_, request.args[0], request.args[1], error);
    if (!ref) return {protocol::kCtlRefused, "", error + "\n"};
    const kmod::ServiceKey key = serviceKey(*ref->vs);
    const RsId id{key, kmod::DestKey{ref->rs->address, static_cast<std::uint16_t>(ref->rs->port)}};
    const std::string who = "vs " + ref->vs->str() + " rs " + conf::realServerStr(*ref->rs);
    const auto wall =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (disable ? !operator_.disable(id, wall) : !operator_.enable(id, wall, deps_.timers->now()))
        return {protocol::kCtlOk, who + ": already " + (disable ? "disabled" : "enabled") + "\n", ""};
    if (disable) {
        base::log::notice("control: ", who,
                          ": disabled by directorctl (weight 0: no new connections, established ones go on) until"
                          " `directorctl enable`");
    } else {
        const auto length = ref->rs->slowStart.value_or(ref->vs->slowStart);
        base::log::notice("control: ", who, ": enabled by directorctl",
                          length.count() > 0 ? " (slow start over " + std::to_string(base::toSeconds(length)) + " s)"
                                             : std::string());
    }
    publishOperator();
    const std::set<kmod::ServiceKey> only{key};
    const auto out = recompute(&only);
    snmpDirty_ = true;
    std::string text =
        who + (disable ? ": disabled (weight 0: no new connections; established ones continue)" : ": enabled");
    if (out.dumped && out.result.firstFailure)
        return {protocol::kCtlRefused, "",
                text + ", but the table refused it: " + out.result.firstFailure->error.message() + "\n"};
    return {protocol::kCtlOk, text + "\n", ""};
}

void LvsWorker::writeVrrpJson(base::JsonWriter& w) const {
    w.beginObject();
    for (const auto& inst : cfg_.vrrpInstances)
        if (auto it = vrrpStatus_.find(inst.name); it != vrrpStatus_.end()) {
            w.key(inst.name);
            writeInstance(w, it->second);
        }
    w.endObject();
}

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
    if (s.announcing) s.announcements = announcements_;
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
    return s;
}

status::StatusReport LvsWorker::statusReport() const { return status::statusReport(snapshot()); }

std::string LvsWorker::stateJson() const {
    base::JsonWriter w;
    w.beginObject();
    w.field("pid", static_cast<std::int64_t>(getpid()));
    w.field("config_file", cfg_.file);
    w.field("data_plane", table_->name());
    w.field("reloads", reloads_);
    w.field("resyncs", resyncs_);
    w.field("drift_repairs", reconciler_.repairs());
    if (const auto n = table_->transactions()) w.field("table_transactions", *n);
    w.key("vrrp_roles").beginObject();
    for (const auto& [k, v] : vrrpRoles_) w.field(k, ::vrrp::stateName(v));
    w.endObject();
    w.key("vrrp");
    writeVrrpJson(w);
    w.key("servers");
    writeServersJson(w, statusReport());
    w.key("announce").beginObject();
    w.field("enabled", cfg_.global.announce.enabled);
    if (cfg_.global.announce.enabled) {
        w.field("table", cfg_.global.announce.table);
        w.field("protocol", cfg_.global.announce.protocol);
        w.field("withdrawn", operator_.withdrawn());
        w.key("vips").beginArray();
        for (const auto& a : announcements_) {
            w.beginObject();
            w.field("vip", a.vip.str());
            w.field("announced", a.announced);
            w.field("why", a.why);
            w.endObject();
        }
        w.endArray();
    }
    w.endObject();
    w.key("sync");
    sync_.writeJson(w);
    if (const auto f = table_->forwarding()) {
        w.key("forwarding").beginObject();
        w.field("udp_flows", f->udpFlows);
        w.field("udp_flows_limit", f->udpLimit);
        w.field("udp_flows_per_source", f->udpPerSource);
        w.field("udp_flows_refused", f->udpRefused);
        w.field("tcp_connections", f->tcpConnections);
        w.field("tcp_connections_limit", f->tcpLimit);
        w.field("tcp_connections_per_source", f->tcpPerSource);
        w.field("tcp_connections_refused", f->tcpRefused);
        w.endObject();
    }
    w.key("checks");
    health_->writeJson(w);
    w.key("table").beginArray();
    const auto table = table_->dump();
    const auto status = table_->status();
    if (table) {
        for (const auto& [key, e] : table->services) {
            const auto& s = e.service;
            w.beginObject();
            w.field("service", key.str());
            w.field("owned", reconciler_.owned().contains(key));
            w.field("scheduler", s.scheduler);
            w.field("flags", s.flags);
            w.field("persistence_timeout", s.timeout);
            w.field("netmask", s.netmask);
            w.key("dests").beginArray();
            for (const auto& [dk, d] : e.dests) {
                w.beginObject();
                w.field("address", dk.str());
                w.field("forwarding", kmod::forwardingName(d.forwarding));
                w.field("weight", d.weight);
                w.field("upper_threshold", d.upperThreshold);
                w.field("lower_threshold", d.lowerThreshold);
                if (status && status->contains(key) && status->at(key).dests.contains(dk)) {
                    const auto& ds = status->at(key).dests.at(dk);
                    w.field("active_conns", ds.activeConns);
                    w.field("inactive_conns", ds.inactConns);
                    w.field("persistent_conns", ds.persistConns);
                    w.field("conns", ds.stats.conns);
                    w.field("in_packets", ds.stats.inpkts);
                    w.field("out_packets", ds.stats.outpkts);
                    w.field("in_bytes", ds.stats.inbytes);
                    w.field("out_bytes", ds.stats.outbytes);
                    w.field("cps", ds.rates.cps);
                    w.field("in_bps", ds.rates.inbps);
                    w.field("out_bps", ds.rates.outbps);
                }
                w.endObject();
            }
            w.endArray();
            w.endObject();
        }
    }
    w.endArray();
    w.endObject();
    return w.str();
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
