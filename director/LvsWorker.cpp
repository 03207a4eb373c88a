#include "director/LvsWorker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/Json.h"
#include "base/Log.h"
#include "director/DesiredState.h"
#include "director/ReloadPlanner.h"
#include "kmod/InMemoryIpvsTable.h"
#include "kmod/netlink/NetlinkIpvsTable.h"
#include "kmod/userspace/UserspaceIpvsTable.h"

namespace director {

std::unique_ptr<kmod::IpvsTable> makeTable(conf::DataPlane plane) {
    auto kernel = [](const char* how) -> std::unique_ptr<kmod::IpvsTable> {
        auto t = kmod::NetlinkIpvsTable::open();
        if (!t) return nullptr;
        std::unique_ptr<kmod::NetlinkIpvsTable> table = std::move(t).value();
        const auto info = table->info();
        if (info)
            base::log::info("data plane: ", how, "kernel IPVS ", info->version >> 16, ".", (info->version >> 8) & 0xff,
                            ".", info->version & 0xff, " over generic netlink (connection table ", info->connTableSize,
                            ")");
        return table;
    };
    switch (plane) {
    case conf::DataPlane::Memory:
        base::log::info("data plane: in-memory table (dry run: nothing is forwarded)");
        return std::make_unique<kmod::InMemoryIpvsTable>();
    case conf::DataPlane::Auto:
        if (auto t = kernel("auto: ")) return t;
        base::log::info(
            "data plane: auto: this kernel has no IPVS (the generic netlink family \"IPVS\" does not"
            " resolve, even after modprobe ip_vs); using the userspace data plane");
        return std::make_unique<kmod::UserspaceIpvsTable>();
    case conf::DataPlane::Userspace:
        base::log::info("data plane: userspace (full NAT TCP/UDP proxy in this process)");
        return std::make_unique<kmod::UserspaceIpvsTable>();
    case conf::DataPlane::Kernel:
        if (auto t = kernel("")) return t;
        base::log::error(
            "data plane: data_plane = \"kernel\", but this kernel has no IPVS (the generic netlink family"
            " \"IPVS\" does not resolve, even after modprobe ip_vs); load ip_vs, or set data_plane ="
            " \"auto\" or \"userspace\" to forward in userspace");
        return nullptr;
    }
    return nullptr;
}

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer)
    : LvsWorker(io, std::move(cfg), std::move(table), peer,
                Deps{std::make_unique<base::AsioTimerFactory>(io), std::make_unique<AsioProbeFactory>(io),
                     std::make_unique<ProcessCommandRunner>(io)}) {}

LvsWorker::LvsWorker(asio::io_context& io, conf::Config cfg, std::unique_ptr<kmod::IpvsTable> table, Channel& peer,
                     Deps deps)
    : io_(io), cfg_(std::move(cfg)), table_(std::move(table)), reconciler_(*table_), deps_(std::move(deps)),
      health_(std::make_unique<HealthMonitor>(*deps_.timers, *deps_.probes, *deps_.commands,
                                              [this] { requestRecompute(); })),
      peer_(peer), resyncTimer_(io) {
    peer_.onLine([this](const std::string& line) { onPeerLine(line); });
}

void LvsWorker::start() {
    applyTimeouts();
    health_->configure(cfg_);
    updateSuspension();
    recompute();
    const auto& desired = reconciler_.desired();
    base::log::info("lvs: started on the ", table_->name(), " table: ", desired.services.size(), " virtual servers, ",
                    desired.destCount(), " real servers, ", health_->sessionCount(), " checks");
    scheduleResync();
}

void LvsWorker::requestRecompute() {
    if (recomputePending_) return;
    recomputePending_ = true;
    asio::post(io_, [this] {
        recomputePending_ = false;
        if (!stopped_) recompute();
    });
}

ReconcileOutcome LvsWorker::recompute() {
    HealthView view = health_->view();
    std::map<kmod::ServiceKey, QuorumTracker> quorum;
    for (const auto& vs : cfg_.virtualServers) {
        const auto key = serviceKey(vs);
        QuorumTracker tracker = quorum_.count(key) ? quorum_.at(key) : QuorumTracker{};
        const long live = liveWeight(vs, view);
        if (auto change = tracker.update(live, vs.quorum, vs.hysteresis)) {
            base::log::warning("check: vs ", vs.str(), ": quorum ", *change ? "regained" : "lost", " (live weight ",
                               live, ", quorum ", vs.quorum, ", hysteresis ", vs.hysteresis, ")",
                               !*change && vs.sorryServer ? "; the sorry server takes over" : "");
            const conf::Command& cmd = *change ? vs.quorumUp : vs.quorumDown;
            if (!cmd.empty())
                deps_.commands->run(cmd, cfg_.global.scriptUser,
                                    std::string(*change ? "quorum_up" : "quorum_down") + " for vs " + vs.str());
        }
        if (!tracker.up()) view.quorumLost.insert(key);
        quorum.emplace(key, tracker);
    }
    quorum_ = std::move(quorum);
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
                            held |= it != vrrpRoles_.end() && it->second == "MASTER";
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
    cfg_ = std::move(next);
    ++reloads_;
    applyTimeouts();
    health_->configure(cfg_);
    updateSuspension();
    const auto out = recompute();
    base::log::info("reload: ", cfg_.file, " applied: ", plan.summary(), "; ", out.ops.size(), " table ops");
    if (resyncChanged) scheduleResync();
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
    resyncTimer_.expires_after(std::chrono::milliseconds(static_cast<long>(cfg_.global.resyncInterval * 1000)));
    resyncTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        ++resyncs_;
        reconciler_.resync();
        scheduleResync();
    });
}

void LvsWorker::stop() {
    if (stopped_) return;
    stopped_ = true;
    resyncTimer_.cancel();
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

void LvsWorker::onPeerLine(const std::string& line) {
    // "role <instance> <STATE>"
    if (line.rfind("role ", 0) == 0) {
        const auto sp = line.find(' ', 5);
        if (sp == std::string::npos) return;
        const std::string inst = line.substr(5, sp - 5), state = line.substr(sp + 1);
        auto& cur = vrrpRoles_[inst];
        if (cur != state) base::log::debug("lvs: vrrp instance ", inst, " is now ", state);
        cur = state;
        updateSuspension();
        return;
    }
    // "vrrpstat <instance> <json>": the instance's state and counters, for status
    if (line.rfind("vrrpstat ", 0) == 0) {
        const auto sp = line.find(' ', 9);
        if (sp != std::string::npos) vrrpStats_[line.substr(9, sp - 9)] = line.substr(sp + 1);
        return;
    }
    base::log::debug("lvs: ignoring peer message '", line, "'");
}

std::string LvsWorker::stateJson() const {
    base::JsonWriter w;
    w.beginObject();
    w.field("pid", static_cast<std::int64_t>(getpid()));
    w.field("config_file", cfg_.file);
    w.field("data_plane", table_->name());
    w.field("reloads", reloads_);
    w.field("resyncs", resyncs_);
    w.field("drift_repairs", reconciler_.repairs());
    w.key("vrrp_roles").beginObject();
    for (const auto& [k, v] : vrrpRoles_) w.field(k, v);
    w.endObject();
    w.key("vrrp").beginObject();
    for (const auto& inst : cfg_.vrrpInstances)
        if (auto it = vrrpStats_.find(inst.name); it != vrrpStats_.end()) w.key(inst.name).raw(it->second);
    w.endObject();
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

void LvsWorker::dumpState() {
    const std::string& path = cfg_.global.stateDumpFile;
    const std::string tmp = path + ".tmp";
    const std::string json = stateJson() + "\n";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (ok) {
        ok = ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
        ok = (::close(fd) == 0) && ok;
        ok = ok && std::rename(tmp.c_str(), path.c_str()) == 0;
    }
    if (!ok) base::log::error("state: cannot write ", path, ": ", std::strerror(errno));
    else base::log::info("state: written to ", path);
}

}  // namespace director
