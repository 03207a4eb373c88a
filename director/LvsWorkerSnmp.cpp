// The lvs worker's SNMP side: the AgentX subagent (snmp::Agent, its own thread), the KEEPALIVED-MIB
// snapshot it serves (director/SnmpTables.cpp) and the traps. No SNMP call runs on the loop: the
// snapshot is built here (at most a tenth of the loop's time) and handed over; the agent's thread
// does all the talking to snmpd.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/Log.h"
#include "director/LvsWorker.h"
#include "director/SnmpTables.h"

namespace director {
namespace {

// While someone read in the last 10 minutes (an NMS polls every few minutes), the snapshot is
// rebuilt every second; else every 5 s.
constexpr auto kReaderWindow = std::chrono::minutes(10);
constexpr std::chrono::steady_clock::duration kReading = std::chrono::seconds(1);
constexpr std::chrono::steady_clock::duration kIdle = std::chrono::seconds(5);

std::map<kmod::ServiceKey, bool> quorumStates(const std::map<kmod::ServiceKey, QuorumTracker>& quorum) {
    std::map<kmod::ServiceKey, bool> out;
    for (const auto& [k, q] : quorum) out[k] = q.up();
    return out;
}

}  // namespace

std::string LvsWorker::routerId() const {
    if (!cfg_.global.routerId.empty()) return cfg_.global.routerId;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "directord";
    return host;
}

void LvsWorker::configureSnmp() {
    const auto& want = cfg_.global.snmp;
    if (snmp_ && want == snmpConfig_) return;
    if (snmp_) base::log::info("snmp: settings changed; reconnecting the subagent");
    snmp_.reset();
    snmpConfig_ = want;
    if (!want.enabled) {
        if (snmpTimer_) snmpTimer_->cancel();
        return;
    }
    snmp::AgentOptions o;
    o.socket = want.agentxSocket;
    bool keepalived = false;
    std::string missing;
    for (const auto& m : want.mibs) {
        if (m == "keepalived") keepalived = true;
        else missing += (missing.empty() ? "" : ", ") + m;
    }
    if (keepalived) o.roots.push_back(mib::keepalivedRoot());
    if (!missing.empty())
        base::log::warning("snmp: global.snmp.mibs asks for ", missing,
                           ", which directord does not serve yet; serving KEEPALIVED-MIB only");
    snmp_ = std::make_unique<snmp::Agent>(std::move(o));
    snmpDirty_ = true;
    snmpPublish();
    if (!snmpTimer_) snmpTimer_ = std::make_unique<asio::steady_timer>(io_);
    snmpTick();
}

void LvsWorker::snmpTick() {
    // Every second while someone reads, every 5 s otherwise (so a first read after a quiet spell
    // sees counters at most that old); a big table's snapshot never takes more than a tenth of
    // the loop.
    const bool reading = std::chrono::steady_clock::now() - snmp_->lastRequest() < kReaderWindow;
    const std::chrono::steady_clock::duration every = reading || snmpDirty_ ? kReading : kIdle;
    snmpTimer_->expires_after(std::max(every, 10 * snmpBuild_));
    snmpTimer_->async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_ || !snmp_) return;
        auto publish = [this] {
            if (stopped_ || !snmp_) return;
            snmpPublish();
            snmpTick();
        };
        // the plane's counters as they are now: the userspace plane asks its forwarding worker
        // (the light query, without the connection list); the others always are current
        if (kmod::SyncDaemonControl* ctl = table_->syncDaemons()) ctl->refreshDaemons(publish);
        else publish();
    });
}

void LvsWorker::snmpPublish() {
    if (!snmp_) return;
    const auto start = std::chrono::steady_clock::now();
    snmpDirty_ = false;
    const auto quorumUp = quorumStates(quorum_);
    const auto table = table_->dump();
    const auto status = table_->status();
    const mib::View view{cfg_,         routerId(), vrrpRoles_, vrrpStatus_, health_->view(), quorumUp,
                         table ? &*table : nullptr, status ? &*status : nullptr};
    auto tree = std::make_shared<snmp::MibTree>();
    mib::addKeepalived(*tree, view);
    snmp_->publish(std::move(tree));
    snmpBuild_ = std::chrono::steady_clock::now() - start;
}

void LvsWorker::snmpNotice(const std::set<kmod::ServiceKey>* only) {
    snmpDirty_ = true;
    auto changes = std::exchange(quorumChanges_, {});
    if (!snmp_ || !cfg_.global.snmp.traps) {  // no traps: nothing to compare against later either
        snmpRsUp_.clear();
        return;
    }
    const auto quorumUp = quorumStates(quorum_);
    const mib::View view{cfg_, routerId(), vrrpRoles_, vrrpStatus_, health_->view(), quorumUp};
    // A health change looks at its services only; a full pass (start, reload) also forgets the
    // real servers that are gone.
    std::map<std::pair<kmod::ServiceKey, kmod::DestKey>, bool> all;
    auto& seen = only ? snmpRsUp_ : all;
    for (const auto& vs : cfg_.virtualServers) {
        const auto key = serviceKey(vs);
        if (only && !only->contains(key)) continue;
        for (const auto& rs : vs.realServers) {
            const std::pair id{key, kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}};
            const bool up = mib::rsUp(health_->view(), vs, rs);
            if (auto it = snmpRsUp_.find(id); it != snmpRsUp_.end() && it->second != up)
                snmp_->trap(mib::realServerStateChange(view, vs, rs, up));
            seen[id] = up;
        }
        for (const auto& [k, met] : changes)
            if (k == key) snmp_->trap(mib::quorumStateChange(view, vs, met));
    }
    if (!only) snmpRsUp_ = std::move(all);
}

void LvsWorker::snmpRole(const std::string& instance, vrrp::State state) {
    snmpDirty_ = true;
    if (!snmp_ || !cfg_.global.snmp.traps) return;
    const std::map<kmod::ServiceKey, bool> none;
    const mib::View view{cfg_, routerId(), vrrpRoles_, vrrpStatus_, health_->view(), none};
    for (const auto& inst : cfg_.vrrpInstances)
        if (inst.name == instance) snmp_->trap(mib::instanceStateChange(view, inst, state));
    for (const auto& g : cfg_.syncGroups) {
        if (std::find(g.members.begin(), g.members.end(), instance) == g.members.end()) continue;
        const auto s = mib::groupStateOf(view, g);
        auto it = snmpGroups_.find(g.name);
        if (it != snmpGroups_.end() && it->second == s) continue;
        snmpGroups_[g.name] = s;
        snmp_->trap(mib::syncGroupStateChange(view, g, s));
    }
}

}  // namespace director
