// The lvs worker's SNMP side: the MIB snapshots (director/status/SnmpTables.cpp) and the traps, sent to
// the status front, whose AgentX subagent (snmp::Agent) serves them. No SNMP call runs here: the
// snapshot is built here (at most a tenth of the loop's time) and handed over; the front does all
// the talking to snmpd.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/Log.h"
#include "director/lvs/LvsWorker.h"
#include "director/status/SnmpTables.h"

namespace director::lvs {
namespace {

// While someone read in the last 10 minutes (an NMS polls every few minutes), the snapshot is
// rebuilt every second; else every 5 s.
constexpr auto kReaderWindow = std::chrono::minutes(10);
constexpr std::chrono::steady_clock::duration kReading = std::chrono::seconds(1);
constexpr std::chrono::steady_clock::duration kIdle = std::chrono::seconds(5);

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string LvsWorker::routerId() const {
    if (!cfg_.global.routerId.empty()) return cfg_.global.routerId;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "directord";
    return host;
}


// The subagent itself runs in the status front (director/status/StatusFront.h), which reads the same
// settings; here: which MIBs to build, and the snapshots' cadence.
void LvsWorker::configureSnmp() {
    const auto& want = cfg_.global.snmp;
    if (snmp_ && want == snmpConfig_) return;
    snmpConfig_ = want;
    snmp_ = want.enabled;
    if (!want.enabled) {
        if (snmpTimer_) snmpTimer_->cancel();
        return;
    }
    mibKeepalived_ = std::find(want.mibs.begin(), want.mibs.end(), "keepalived") != want.mibs.end();
    mibVrrp_ = std::find(want.mibs.begin(), want.mibs.end(), "vrrp") != want.mibs.end();
    mibVrrpv3_ = std::find(want.mibs.begin(), want.mibs.end(), "vrrpv3") != want.mibs.end();
    snmpStartMs_ = nowMs();
    snmpDirty_ = true;
    snmpPublish();
    if (!snmpTimer_) snmpTimer_ = std::make_unique<asio::steady_timer>(io_);
    snmpTick();
}

void LvsWorker::snmpTick() {
    // Every second while someone reads, every 5 s otherwise (so a first read after a quiet spell
    // sees counters at most that old); a big table's snapshot never takes more than a tenth of
    // the loop.
    const bool reading = std::chrono::steady_clock::now() - snmpLastRead_ < kReaderWindow;
    const std::chrono::steady_clock::duration every = reading || snmpDirty_ ? kReading : kIdle;
    snmpArm(std::max(every, 10 * snmpBuild_));
}

// A state changed: the snapshot follows within 100 ms (or ten times its build time), even when the
// next rebuild was further.
void LvsWorker::snmpSoon() {
    if (!snmp_ || !snmpTimer_) return;
    const auto soon = std::max<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100), 10 * snmpBuild_);
    if (snmpTimer_->expiry() - std::chrono::steady_clock::now() > soon) snmpArm(soon);
}

void LvsWorker::snmpArm(std::chrono::steady_clock::duration after) {
    // One chain of ticks: re-arming cancels the wait in flight, and a tick that had already fired
    // when it was re-armed finds a newer generation and does nothing.
    const std::uint64_t gen = ++snmpGeneration_;
    snmpTimer_->expires_after(after);
    snmpTimer_->async_wait([this, gen](const boost::system::error_code& ec) {
        if (ec || stopped_ || !snmp_ || gen != snmpGeneration_) return;
        auto publish = [this, gen] {
            if (stopped_ || !snmp_ || gen != snmpGeneration_) return;
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
    const auto view = snapshot();
    snmp::MibTree tree;
    if (mibKeepalived_) status::mib::addKeepalived(tree, view);
    if (mibVrrp_) status::mib::addVrrpMib(tree, view);
    if (mibVrrpv3_) status::mib::addVrrpv3Mib(tree, view);
    toFront(protocol::MibMsg{tree.objects()});
    snmpBuild_ = std::chrono::steady_clock::now() - start;
}

void LvsWorker::snmpNotice(const std::set<kmod::ServiceKey>* only) {
    snmpDirty_ = true;
    snmpSoon();
    auto changes = std::exchange(quorumChanges_, {});
    if (!snmp_ || !cfg_.global.snmp.traps || !mibKeepalived_) {  // no traps: nothing to compare later either
        snmpRsUp_.clear();
        return;
    }
    const auto view = snapshot(false);
    // A health change looks at its services only; a full pass (start, reload) also forgets the
    // real servers that are gone.
    std::map<std::pair<kmod::ServiceKey, kmod::DestKey>, bool> all;
    auto& seen = only ? snmpRsUp_ : all;
    for (const auto& vs : cfg_.virtualServers) {
        const auto key = serviceKey(vs);
        if (only && !only->contains(key)) continue;
        for (const auto& rs : vs.realServers) {
            const std::pair id{key, kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}};
            const bool up = status::mib::rsUp(health_->view(), vs, rs);
            if (auto it = snmpRsUp_.find(id); it != snmpRsUp_.end() && it->second != up)
                toFront(protocol::TrapMsg{status::mib::realServerStateChange(view, vs, rs, up)});
            seen[id] = up;
        }
        for (const auto& [k, met] : changes)
            if (k == key) toFront(protocol::TrapMsg{status::mib::quorumStateChange(view, vs, met)});
    }
    if (!only) snmpRsUp_ = std::move(all);
}

void LvsWorker::snmpRole(const std::string& instance, ::vrrp::State state) {
    snmpDirty_ = true;
    snmpSoon();
    if (!snmp_ || !cfg_.global.snmp.traps) return;
    const auto view = snapshot(false);
    // Each MIB's notifications when it is served, as keepalived: its own for every change, the
    // RFC MIBs' new-master ones on becoming master.
    for (const auto& inst : cfg_.vrrpInstances) {
        if (inst.name != instance) continue;
        if (mibKeepalived_) toFront(protocol::TrapMsg{status::mib::instanceStateChange(view, inst, state)});
        if (state != ::vrrp::State::Master) continue;
        if (mibVrrp_)
            if (auto t = status::mib::vrrpNewMaster(view, inst)) toFront(protocol::TrapMsg{std::move(*t)});
        if (mibVrrpv3_)
            if (auto t = status::mib::vrrpv3NewMaster(view, inst)) toFront(protocol::TrapMsg{std::move(*t)});
    }
    if (!mibKeepalived_) return;
    for (const auto& g : cfg_.syncGroups) {
        if (std::find(g.members.begin(), g.members.end(), instance) == g.members.end()) continue;
        const auto s = status::mib::groupStateOf(view, g);
        auto it = snmpGroups_.find(g.name);
        if (it != snmpGroups_.end() && it->second == s) continue;
        snmpGroups_[g.name] = s;
        toFront(protocol::TrapMsg{status::mib::syncGroupStateChange(view, g, s)});
    }
}

}  // namespace director::lvs
