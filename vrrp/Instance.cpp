#include "vrrp/Instance.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "base/Log.h"
#include "vrrp/Accept.h"
#include "vrrp/Ah.h"

namespace vrrp {

MachineConfig Instance::machineConfig() const {
    MachineConfig m;
    m.version = cfg_.version;
    m.vrid = static_cast<std::uint8_t>(cfg_.vrid);
    m.priority =
        static_cast<std::uint8_t>(cfg_.priority == 255 ? 255 : std::clamp(cfg_.priority + priorityDelta_, 1, 254));
    m.advertInterval = std::chrono::duration_cast<Micros>(cfg_.advertInterval);
    m.preempt = !cfg_.nopreempt;
    m.preemptDelay = std::chrono::duration_cast<Micros>(cfg_.preemptDelay);
    m.primary = source().value_or(base::IpAddress{});
    m.replyToLower = !cfg_.lowerPrioNoAdvert;
    m.advertOnYield = cfg_.higherPrioSendAdvert;
    return m;
}

// 224.0.0.18 or ff02::12
base::IpAddress Instance::group() const {
    if (cfg_.family == base::Family::V4) return base::IpAddress::v4(0xe0000012);
    std::uint8_t b[16] = {0xff, 0x02};
    b[15] = 0x12;
    return base::IpAddress::fromBytes(base::Family::V6, b);
}

// unicast_source, or the interface's primary IPv4 / link-local IPv6 address
std::optional<base::IpAddress> Instance::source() const {
    if (cfg_.unicastSource) return cfg_.unicastSource;
    return cfg_.family == base::Family::V4 ? ifc_.primaryV4 : ifc_.linkLocalV6;
}

Instance::Instance(base::TimerFactory& timers, Host& host, conf::VrrpInstance cfg, OnState onState)
    : timers_(timers), host_(host), cfg_(std::move(cfg)), onState_(std::move(onState)), machine_(MachineConfig{}),
      ahKey_(ahKey(cfg_.authPassword)), timer_(timers.makeTimer()), garpTimer_(timers.makeTimer()),
      linkTimer_(timers.makeTimer()), refreshTimer_(timers.makeTimer()), pacer_(timers.makeTimer()),
      yieldTimer_(timers.makeTimer()), settleTimer_(timers.makeTimer()) {
    machine_ = StateMachine(machineConfig());
    loadHmac();
}

void Instance::loadHmac() {
    hmacKeys_.clear();
    for (const auto& k : cfg_.authHmac.keys) hmacKeys_.push_back({k.id, k.bytes});
    // multicast: the last four sources heard; unicast: every peer (keepalived's)
    hmacReplay_.setCapacity(std::max<size_t>(4, cfg_.unicastPeers.size()));
}

std::uint32_t Instance::hmacWindow() const {
    if (cfg_.authHmac.timeWindow) return static_cast<std::uint32_t>(*cfg_.authHmac.timeWindow);
    const auto whole = std::chrono::duration_cast<std::chrono::seconds>(cfg_.advertInterval).count();
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(3 * whole, 5, 300));
}

Instance::~Instance() {
    for (auto* t : {&timer_, &garpTimer_, &linkTimer_, &refreshTimer_, &pacer_, &yieldTimer_, &settleTimer_})
        (*t)->cancel();
    if (transport_) transport_->close();
    closePaths();
}

void Instance::closePaths() {
    for (auto& p : paths_)
        if (p.transport) p.transport->close();
    paths_.clear();
}

void Instance::openPaths() {
    closePaths();
    for (const auto& pc : cfg_.advertPaths) {
        Path p;
        p.cfg = pc;
        p.judged = judgedFor(pc);
        const int index = host_.ifindex(pc.interface);
        if (!index) {
            base::log::warning("vrrp: ", cfg_.name, ": advert path ", pc.interface,
                               ": no such interface; the adverts go on the other paths");
        } else {
            p.transport = host_.transport();
            const Transport::Spec spec{pc.interface, index, cfg_.family, pc.unicastPeers.empty(), usesAh(cfg_),
                                       cfg_.unicastTtl.value_or(255)};
            if (auto ec = p.transport->open(spec)) {
                base::log::error("vrrp: ", cfg_.name, ": cannot open the VRRP socket on advert path ", pc.interface,
                                 ": ", ec.message(), "; the adverts go on the other paths");
                p.transport.reset();
            }
        }
        paths_.push_back(std::move(p));
    }
    for (size_t i = 0; i < paths_.size(); ++i)
        if (paths_[i].transport) paths_[i].transport->receive([this, i](const Received& pkt) { onPathPacket(i, pkt); });
}

// The instance's config as judge() sees what arrives on a path: the path's interface and peers.
conf::VrrpInstance Instance::judgedFor(const conf::AdvertPath& pc) const {
    conf::VrrpInstance c = cfg_;
    c.interface = pc.interface;
    c.unicastPeers = pc.unicastPeers;
    c.unicastSource = pc.unicastSource;
    return c;
}

// A path's source: its unicast_source, or its interface's primary IPv4 / link-local IPv6 address as
// the link watcher knows it now (none yet: nothing goes on that path).
std::optional<base::IpAddress> Instance::pathSource(const Path& p) const {
    if (p.cfg.unicastSource) return p.cfg.unicastSource;
    auto info = host_.interfaceInfo(p.cfg.interface, {});
    if (!info) return std::nullopt;
    return cfg_.family == base::Family::V4 ? info->primaryV4 : info->linkLocalV6;
}

// The interface a virtual address goes on: its own dev, or the instance's (0: no such interface).
int Instance::ifindexOf(const conf::VirtualAddress& v) const {
    if (v.dev.empty()) return ifc_.index;
    return host_.ifindex(v.dev);
}

std::vector<base::IpAddress> Instance::vips() const {
    std::vector<base::IpAddress> out;
    for (const auto& v : cfg_.virtualAddresses) out.push_back(v.prefix.address);
    return out;
}

std::vector<const conf::VirtualAddress*> Instance::allAddresses(const conf::VrrpInstance& c) const {
    std::vector<const conf::VirtualAddress*> out;
    for (const auto* list : {&c.virtualAddresses, &c.excludedAddresses})
        for (const auto& v : *list) out.push_back(&v);
    return out;
}

VmacSpec Instance::vmacSpec(const InterfaceInfo& parent) const {
    VmacSpec v;
    v.name = cfg_.vmac.name.empty() ? "vrrp." + std::to_string(cfg_.vrid) : cfg_.vmac.name;
    v.parent = cfg_.interface;
    v.family = cfg_.family;
    // RFC 5798 7.3: 00-00-5E-00-01-{VRID}, IPv6 00-00-5E-00-02-{VRID}
    v.mac = {0x00, 0x00, 0x5e, 0x00, static_cast<std::uint8_t>(cfg_.family == base::Family::V6 ? 0x02 : 0x01),
             static_cast<std::uint8_t>(cfg_.vrid)};
    if (cfg_.family == base::Family::V6 && !cfg_.vmac.xmitBase && cfg_.unicastPeers.empty()) {
        // keepalived's set_link_local_address: the parent's link-local address, else one made
        // from the parent's MAC (EUI-64)
        if (cfg_.unicastSource) v.linkLocal = cfg_.unicastSource;
        else if (parent.linkLocalV6) v.linkLocal = parent.linkLocalV6;
        else {
            std::uint8_t b[16] = {0xfe, 0x80};
            b[8] = parent.mac[0] ^ 0x02;
            b[9] = parent.mac[1];
            b[10] = parent.mac[2];
            b[11] = 0xff;
            b[12] = 0xfe;
            b[13] = parent.mac[3];
            b[14] = parent.mac[4];
            b[15] = parent.mac[5];
            v.linkLocal = base::IpAddress::fromBytes(base::Family::V6, b);
        }
    }
    return v;
}

std::optional<InterfaceInfo> Instance::lookLink() {
    auto info = host_.interfaceInfo(cfg_.interface, vips());
    if (!info || !cfg_.vmac.enabled) return info;
    baseIndex_ = info->index;
    if (!vmac_ || ifc_.index == 0) {
        const VmacSpec spec = vmacSpec(*info);
        const VmacResult r = host_.ensureVmac(spec);
        if (r.error) return std::nullopt;
        vmac_ = spec;
        info->index = r.ifindex;
    } else info->index = ifc_.index;
    info->mac = vmac_->mac;
    if (sendsFromVmac() && cfg_.family == base::Family::V6) info->linkLocalV6 = vmac_->linkLocal;
    return info;
}

bool Instance::openTransport() {
    if (!transport_) transport_ = host_.transport();
    // with a VMAC, adverts go and come on the macvlan (a peer's, from the same virtual MAC, reach
    // only the macvlan: the kernel takes them for its own looped back); vmac_xmit_base: the interface
    const bool onVmac = sendsFromVmac();
    Transport::Spec spec{onVmac ? vmac_->name : cfg_.interface, vmac_ && !onVmac ? baseIndex_ : ifc_.index,
                         cfg_.family, cfg_.unicastPeers.empty(), usesAh(cfg_), cfg_.unicastTtl.value_or(255)};
    if (auto ec = transport_->open(spec)) {
        base::log::error("vrrp: ", cfg_.name, ": cannot open the VRRP socket on ", spec.interface, ": ", ec.message(),
                         " (directord needs root or CAP_NET_RAW); the instance stays INIT");
        return false;
    }
    transport_->receive([this](const Received& pkt) { onPacket(pkt); });
    return true;
}

namespace {
constexpr auto kVmacRetry = std::chrono::seconds(5);  // each try that fails logs its reason
}

bool Instance::start(std::optional<State> resume) {
    const std::string who = "vrrp: " + cfg_.name + ": ";
    auto info = lookLink();
    if (!info && cfg_.vmac.enabled) {
        // the interface is there but its VMAC cannot be made (ensureVmac logged why): a clear FAULT,
        // never the interface itself instead, retried until it can be made
        if (auto parent = host_.interfaceInfo(cfg_.interface, vips())) {
            vmac_ = vmacSpec(*parent);
            baseIndex_ = parent->index;
            info = parent;
            info->index = 0;
            info->mac = vmac_->mac;
            vmacMissing_ = true;
            vmacRetryAt_ = now() + kVmacRetry;
            base::log::error(who, "the VMAC ", vmac_->name, " on ", cfg_.interface,
                             " cannot be made: FAULT until it can (tried again every ",
                             std::chrono::duration_cast<std::chrono::seconds>(kVmacRetry).count(), " s)");
        }
    }
    if (!info) {
        base::log::error(who, cfg_.vmac.enabled && host_.ifindex(cfg_.interface) ? "no VMAC on " : "no interface ",
                         cfg_.interface, "; the instance stays INIT (fix the config or the system, then reload)");
        return false;
    }
    ifc_ = *info;
    machine_ = StateMachine(machineConfig());  // none to send from yet: FAULT (below) until there is one
    machine_.setGated(group_ != nullptr);
    if (holdUntil_) machine_.holdMasterUntil(*holdUntil_);
    if (!vmacMissing_ && !openTransport()) return false;
    openPaths();
    running_ = true;
    claims_ = host_.watchClaims([this](const Claim& c) { heardClaim(c); });
    base::log::info(who, resume ? "resuming as " + std::string(stateName(*resume)) + " on " : "starting on ",
                    cfg_.interface, vmac_ ? " with VMAC " + vmac_->name : std::string(), " (vrid ", cfg_.vrid, ", priority ", cfg_.priority, ", v", cfg_.version,
                    cfg_.family == base::Family::V6 ? " IPv6" : "", ", advert every ",
                    base::toSeconds(cfg_.advertInterval), " s, ",
                    cfg_.unicastPeers.empty() ? std::string("multicast")
                                              : "unicast to " + std::to_string(cfg_.unicastPeers.size()) + " peer(s)",
                    group_ ? ", sync group " + group_->name() : std::string(), ")");
    noSource_ = !source();
    if (noSource_)
        base::log::warning(who, cfg_.interface, " has no usable ",
                           cfg_.family == base::Family::V4 ? "IPv4" : "link-local IPv6",
                           " address to send adverts from: FAULT until it has one");
    if (resume) {
        reported_ = *resume;  // that transition was announced by the worker that died
        // a master that lost its link while it was away does not come back as master
        const bool canMaster =
            *resume == State::Master && (cfg_.dontTrackPrimary || host_.linkUp(cfg_.interface)) && !noSource_;
        run(machine_.resume(canMaster ? State::Master : State::Backup, now()));
        if (reported_ != machine_.state()) run({{Action::Kind::Transition, 0, machine_.state()}});
    } else {
        releaseAddresses();  // a VIP left on the link by someone else is not ours while we are not master
        run(machine_.startup(now()));
    }
    checkLinks();
    watchLinks();
    return true;
}

Instance::Reload Instance::plan(const conf::VrrpInstance& before, const conf::VrrpInstance& after) {
    if (before == after) return Reload::Kept;
    if (before.vrid != after.vrid || before.interface != after.interface || before.family != after.family ||
        before.version != after.version || before.vmac != after.vmac)
        return Reload::Restart;
    return Reload::Reconfigured;
}

Instance::Reload Instance::reconfigure(const conf::VrrpInstance& next) {
    const Reload r = plan(cfg_, next);
    if (r != Reload::Reconfigured) return r;
    const conf::VrrpInstance before = std::move(cfg_);
    cfg_ = next;
    ahKey_ = ahKey(cfg_.authPassword);
    loadHmac();  // a key added, removed or made active: in force from the next advert
    if (!running_) return r;
    // the socket's shape: multicast or unicast, AH or not
    if (before.unicastPeers.empty() != cfg_.unicastPeers.empty() || usesAh(before) != usesAh(cfg_) ||
        before.unicastTtl != cfg_.unicastTtl)
        openTransport();
    if (before.advertPaths != cfg_.advertPaths || usesAh(before) != usesAh(cfg_) ||
        before.unicastTtl != cfg_.unicastTtl) {
        openPaths();
    } else {
        for (auto& p : paths_) p.judged = judgedFor(p.cfg);  // authentication, intervals: the new ones
    }
    if (auto info = lookLink()) ifc_ = *info;
    // the addresses: while master, the removed ones go and the added ones come (and are announced)
    if (machine_.state() == State::Master) {
        auto key = [](const conf::VirtualAddress* v) { return std::tie(v->prefix, v->dev, v->label, v->scope); };
        const auto old = allAddresses(before), now = allAddresses(cfg_);
        std::vector<const conf::VirtualAddress*> gone, added;
        for (const auto* v : old)
            if (std::none_of(now.begin(), now.end(), [&](const auto* n) { return key(n) == key(v); }))
                gone.push_back(v);
        for (const auto* v : now)
            if (std::none_of(old.begin(), old.end(), [&](const auto* o) { return key(o) == key(v); }))
                added.push_back(v);
        // routes: the old ones that are not in the new list go, the new list is (re)applied
        for (const auto& was : before.virtualRoutes)
            if (std::find(cfg_.virtualRoutes.begin(), cfg_.virtualRoutes.end(), was) == cfg_.virtualRoutes.end()) {
                const int idx = host_.ifindex(was.dev.empty() ? before.interface : was.dev);
                (void)host_.removeRoute(was, was.dev.empty() && was.via ? 0 : idx);
            }
        for (const auto& was : before.virtualRules)
            if (std::find(cfg_.virtualRules.begin(), cfg_.virtualRules.end(), was) == cfg_.virtualRules.end())
                (void)host_.removeRule(was);
        blockAddresses(true);  // the new list, or none if accept_mode is now true
        removeAddresses(gone);
        addAddresses(added);
        if (before.virtualRoutes != cfg_.virtualRoutes || before.virtualRules != cfg_.virtualRules) addRoutes();
        if (!added.empty()) garpBurst(cfg_.garp.masterRepeat, added);
        if (before.garp.masterRefresh != cfg_.garp.masterRefresh) {
            refreshTimer_->cancel();
            if (cfg_.garp.masterRefresh > base::Duration::zero()) refreshGarp();
        }
    }
    // priority, interval, preemption: a master advertises a change at once; the protocol decides
    run(machine_.reconfigure(machineConfig(), now()));
    checkLinks();  // track_interfaces may have changed
    base::log::notice("vrrp: ", cfg_.name, ": reconfigured in place (still ", stateName(machine_.state()), ")");
    return r;
}

void Instance::watchLinks() {
    linkTimer_->schedule(std::chrono::milliseconds(200), [this] {
        if (!running_) return;
        checkLinks();
        watchLinks();
    });
}

void Instance::checkLinks() {
    checkVmac();
    if (noSource_) {  // IPv6: the link-local address appears once DAD is done
        if (auto info = lookLink()) ifc_ = *info;
        if (auto src = source()) {
            noSource_ = false;
            machine_.setPrimary(*src);
            base::log::notice("vrrp: ", cfg_.name, ": sending adverts from ", src->str());
        }
    }
    bool fault = !cfg_.dontTrackPrimary && !host_.linkUp(cfg_.interface);
    int delta = 0;
    for (const auto& t : cfg_.trackInterfaces) {
        if (host_.linkUp(t.interface)) continue;
        if (t.weight == 0) fault = true;
        else delta += t.weight;
    }
    linkFault_ = fault;
    linkDelta_ = delta;
    applyTracking();
    // a route or rule of ours deleted behind our back while we are master comes back (after the
    // VIPs below on the next pass at the latest; a route whose source VIP is missing waits for it)
    if (machine_.state() == State::Master && host_.routeDeletions() != routeDeletionsSeen_) {
        routeDeletionsSeen_ = host_.routeDeletions();
        for (const auto& r : cfg_.virtualRules)
            if (host_.restoreRule(r))
                base::log::warning("vrrp: ", cfg_.name, ": the rule ", conf::ruleText(r),
                                   " was deleted while this director is master; added again");
        for (const auto& r : cfg_.virtualRoutes) {
            const int idx = host_.ifindex(r.dev.empty() ? cfg_.interface : r.dev);
            if (host_.restoreRoute(r, r.dev.empty() && r.via ? 0 : idx))
                base::log::warning("vrrp: ", cfg_.name, ": the route to ", r.to.str(),
                                   " was deleted while this director is master; added again");
        }
    }
    // a VIP removed behind our back while we are master comes back
    if (machine_.state() == State::Master)
        for (const auto& v : cfg_.virtualAddresses) {
            const int idx = ifindexOf(v);
            if (idx && !host_.hasAddress(idx, v.prefix.address)) {
                base::log::warning("vrrp: ", cfg_.name, ": ", v.prefix.str(),
                                   " was removed from the interface while this director is master; adding it back");
                if (!host_.addAddress(idx, v.prefix, v.label, v.scope)) (void)host_.announce(ifc_, v.prefix.address);
            }
        }
}

void Instance::setTracking(int delta, bool fault) {
    trackDelta_ = delta;
    trackFault_ = fault;
    if (running_) applyTracking();
}

void Instance::applyTracking() {
    const int delta = linkDelta_ + trackDelta_;
    if (delta != priorityDelta_ && cfg_.priority != 255) {
        priorityDelta_ = delta;
        const int p = std::clamp(cfg_.priority + delta, 1, 254);
        base::log::notice("vrrp: ", cfg_.name, ": tracking sets the priority to ", p);
        machine_.setPriority(static_cast<std::uint8_t>(p));
    }
    const bool fault = ownFault();
    if (fault != faulted_) {
        faulted_ = fault;
        base::log::notice("vrrp: ", cfg_.name, ": ",
                          fault ? (vmacMissing_ ? "no VMAC: FAULT"
                                   : noSource_    ? "no address to send from: FAULT"
                                   : noPeer()   ? "no unicast peers (unicast_fault_no_peer): FAULT"
                                   : linkFault_ ? "a tracked link is down: FAULT"
                                                : "a tracked script fails: FAULT")
                                : "tracking is healthy again");
        if (group_) group_->changed(now());  // the group puts every member in FAULT, or takes them out
        else run(machine_.onFault(fault, now()));
    }
}

void Instance::joinGroup(InstanceGroup* g) {
    group_ = g;
    machine_.setGated(g != nullptr);
}

void Instance::stop() {
    if (!running_) return;
    linkTimer_->cancel();
    run(machine_.shutdown(now()));
    running_ = false;
    claims_.reset();
    for (auto* t : {&timer_, &garpTimer_, &refreshTimer_, &pacer_, &yieldTimer_, &settleTimer_}) (*t)->cancel();
    if (transport_) transport_->close();
    closePaths();
    if (vmac_) host_.removeVmac(*vmac_);  // its addresses went with shutdown()
    vmac_.reset();
}

// A VMAC deleted behind our back (or with its parent, which has come back) is made again, its
// socket reopened; a master's VIPs then come back with the check below.
void Instance::checkVmac() {
    if (!vmac_) return;
    const int index = host_.ifindex(vmac_->name);
    if (index == ifc_.index && !vmacMissing_) return;
    if (!host_.ifindex(cfg_.interface)) return;  // the parent is gone: FAULT until it is back
    if (vmacMissing_ && now() < vmacRetryAt_) return;
    auto parent = host_.interfaceInfo(cfg_.interface, vips());
    if (!parent) return;
    const VmacResult r = host_.ensureVmac(vmacSpec(*parent));
    if (r.error) {  // not made (ensureVmac logged why): FAULT until it can be
        vmacRetryAt_ = now() + kVmacRetry;
        if (!vmacMissing_)
            base::log::error("vrrp: ", cfg_.name, ": the VMAC ", vmac_->name,
                             " was removed and cannot be made again: FAULT until it can");
        vmacMissing_ = true;
        return;
    }
    if (r.ifindex == ifc_.index && !vmacMissing_) return;  // our view had not caught up
    base::log::warning("vrrp: ", cfg_.name, ": VMAC ", vmac_->name, vmacMissing_ ? " made" : " was removed; made again",
                       machine_.state() == State::Master ? " and its addresses added back" : "");
    vmacMissing_ = false;
    ifc_.index = r.ifindex;
    baseIndex_ = parent->index;
    openTransport();
}

void Instance::arm() {
    timer_->cancel();
    const auto d = machine_.deadline();
    if (!d || !running_) return;
    timer_->schedule(std::max(base::Duration::zero(), *d - now()), [this] {
        if (!running_) return;
        // A backup about to take over looks at its links first (they are looked at every 200 ms):
        // one whose link went down since is FAULT, not a master taking the VIPs on a dead link and
        // announcing those of its other links (found by the chaos run: the servers' return path
        // moved to a director that went FAULT 5 ms later, and nobody moved it back).
        if (machine_.state() == State::Backup) {
            checkLinks();
            if (!running_ || machine_.state() != State::Backup) return;
        }
        run(machine_.onTimer(now()));
    });
}

void Instance::run(const std::vector<Action>& actions) {
    std::optional<std::uint8_t> advertised;  // an advert this step sent, at this priority
    bool yielded = false;                    // ... as it left MASTER for BACKUP
    for (const auto& a : actions) {
        switch (a.kind) {
        case Action::Kind::SendAdvert:
            // a release (priority 0) our dead link did not carry is sent when it is back (owedRelease)
            if (!sendAdvert(a.priority) && a.priority == 0 && reported_ == State::Master) releaseOwed_ = now();
            advertised = a.priority;
            break;
        case Action::Kind::TakeAddresses: takeAddresses(); break;
        case Action::Kind::ReleaseAddresses: releaseAddresses(); break;
        case Action::Kind::Announce:
            if (a.priority > 0) heardLowerMaster();
            else heardRelease();
            break;
        case Action::Kind::Transition: {
            const State from = reported_;
            reported_ = a.to;
            if (a.to == State::Init || a.to == State::Fault) upSince_.reset();
            else if (!upSince_) upSince_ = now();
            base::log::notice("vrrp: ", cfg_.name, ": ", stateName(from), " -> ", stateName(a.to));
            if (onState_) onState_(cfg_.name, from, a.to);
            yielded |= from == State::Master && a.to == State::Backup;
            if (a.to == State::Master) releaseOwed_.reset();
            break;
        }
        }
    }
    if (yielded && advertised && *advertised > 0) repeatYield(*advertised, 2);
    arm();
    if (group_ && running_) group_->changed(now());
}

// The advert a master sends as it yields to a higher priority one (higher_prio_send_advert) tells
// the winner there were two masters, so it announces the addresses again: the clients that
// followed this one's announcements go back. One advert lost (a lossy link, the very reason there
// were two masters) left them here, at a backup: twice more, a quarter interval apart, while this
// instance stays backup.
void Instance::repeatYield(std::uint8_t priority, int times) {
    yieldTimer_->schedule(cfg_.advertInterval / 4, [this, priority, times] {
        if (!running_ || machine_.state() != State::Backup) return;
        sendAdvert(priority);
        if (times > 1) repeatYield(priority, times - 1);
    });
}

bool Instance::sendAdvert(std::uint8_t priority) {
    if (!transport_) return false;
    Advert ad;
    ad.version = cfg_.version;
    ad.vrid = static_cast<std::uint8_t>(cfg_.vrid);
    ad.priority = priority;
    ad.interval = std::chrono::duration_cast<Micros>(cfg_.advertInterval);
    ad.addresses = vips();
    if (cfg_.version == 2 && cfg_.authType == conf::AuthType::Pass) {
        ad.auth = AuthType::Pass;
        std::memcpy(ad.authData.data(), cfg_.authPassword.data(), std::min<size_t>(8, cfg_.authPassword.size()));
    }
    const bool ah = usesAh(cfg_);
    if (ah) ad.auth = AuthType::Ah;  // its 8 bytes stay zero; the AH header carries the ICV
    const auto from = source();
    if (!from || !transport_) return false;  // FAULT already: nothing to send from (or no VMAC to send on)
    if (priority == 0) ++priZeroSent_;  // once per advert, however many unicast peers get it
    const ChecksumMode mode{cfg_.checksumPseudoHeader};
    // IPv4 multicast without unicast_source goes from the kernel's choice (the primary address),
    // except from a VMAC, which has no address of its own to choose
    const std::optional<base::IpAddress> pin =
        cfg_.family == base::Family::V6 || sendsFromVmac() ? from : cfg_.unicastSource;
    // AH: one sequence number and IP id per advert (all unicast copies share them, as keepalived)
    AhSeal seal;
    if (ah) {
        if (++ipId_ == 0) ipId_ = 1;
        seal.ipId = ipId_;
        seal.sequence = ++ahSequence_;
        seal.unicast = !cfg_.unicastPeers.empty();
        if (seal.unicast) seal.ttl = static_cast<std::uint8_t>(cfg_.unicastTtl.value_or(255));
    }
    // auth_hmac: one sequence per advert, the same trailer for every unicast copy (its MAC does not
    // cover the destination), the IPv6 checksum over the trailer too
    const auto& hm = cfg_.authHmac;
    const hmac::Key* signing = nullptr;
    std::uint64_t hmacSeq = 0;
    if (hm.enabled && hm.mode != conf::HmacMode::ReceiveOnly) {
        for (const auto& k : hmacKeys_)
            if (k.id == hm.activeKey) signing = &k;
        if (signing) hmacSeq = hmacSequence_.next(std::chrono::system_clock::now(), hm.antiReplayTime, hmacWindow());
    }
    auto wireFrom = [&](const base::IpAddress& src, const base::IpAddress& dst) {
        auto bytes = encode(ad, src, dst, mode);
        if (signing) {
            const auto t = hmac::seal(bytes, src, ad.version, ad.vrid, *signing, hmacSeq);
            bytes.insert(bytes.end(), t.begin(), t.end());
            if (!src.isV4()) {
                bytes[6] = bytes[7] = 0;
                const std::uint16_t ck = inetChecksum(bytes, pseudoHeaderSum(src, dst, bytes.size(), kProtocol));
                bytes[6] = static_cast<std::uint8_t>(ck >> 8);
                bytes[7] = static_cast<std::uint8_t>(ck & 0xff);
            }
        }
        return ah ? ahSeal(bytes, src, dst, ahKey_, seal) : bytes;
    };
    auto wire = [&](const base::IpAddress& dst) { return wireFrom(*from, dst); };
    // the same advert on every advert path (its source that path's address)
    for (auto& p : paths_) {
        if (!p.transport) continue;
        const auto src = pathSource(p);
        if (!src) continue;
        auto one = [&](const base::IpAddress& dst) {
            if (auto ec = p.transport->send(wireFrom(*src, dst), dst, src))
                base::log::debug("vrrp: ", cfg_.name, ": advert on path ", p.cfg.interface, " to ", dst.str(),
                                 " not sent: ", ec.message());
            else ++sent_;
        };
        if (p.cfg.unicastPeers.empty()) one(group());
        else
            for (const auto& peer : p.cfg.unicastPeers) one(peer);
    }
    bool sent = false;
    if (cfg_.unicastPeers.empty()) {
        const auto dst = group();
        if (auto ec = transport_->send(wire(dst), dst, pin))
            base::log::warning("vrrp: ", cfg_.name, ": advert not sent: ", ec.message());
        else {
            ++sent_;
            sent = true;
        }
    } else {
        for (const auto& peer : cfg_.unicastPeers) {
            if (auto ec = transport_->send(wire(peer), peer, pin))
                base::log::warning("vrrp: ", cfg_.name, ": advert to ", peer.str(), " not sent: ", ec.message());
            else {
                ++sent_;
                sent = true;
            }
        }
    }
    return sent;
}

void Instance::addAddresses(const std::vector<const conf::VirtualAddress*>& which) {
    for (const auto* v : which)
        if (auto ec = host_.addAddress(ifindexOf(*v), v->prefix, v->label, v->scope))
            base::log::error("vrrp: ", cfg_.name, ": cannot add ", v->prefix.str(), ": ", ec.message());
}

void Instance::removeAddresses(const std::vector<const conf::VirtualAddress*>& which) {
    for (const auto* v : which)
        if (auto ec = host_.removeAddress(ifindexOf(*v), v->prefix))
            base::log::error("vrrp: ", cfg_.name, ": cannot remove ", v->prefix.str(), ": ", ec.message());
}

void Instance::addRoutes() {
    for (const auto& r : cfg_.virtualRules)  // rules first: a route may live in the table they pick
        if (auto ec = host_.addRule(r))
            base::log::error("vrrp: ", cfg_.name, ": cannot add the rule ", conf::ruleText(r), ": ", ec.message());
    for (const auto& r : cfg_.virtualRoutes) {
        const int idx = host_.ifindex(r.dev.empty() ? cfg_.interface : r.dev);
        if (auto ec = host_.addRoute(r, r.dev.empty() && r.via ? 0 : idx))
            base::log::error("vrrp: ", cfg_.name, ": cannot add the route to ", r.to.str(),
                             r.via ? " via " + r.via->str() : std::string(), ": ", ec.message());
    }
}

void Instance::removeRoutes() {
    for (const auto& r : cfg_.virtualRoutes) {
        const int idx = host_.ifindex(r.dev.empty() ? cfg_.interface : r.dev);
        if (auto ec = host_.removeRoute(r, r.dev.empty() && r.via ? 0 : idx))
            base::log::error("vrrp: ", cfg_.name, ": cannot remove the route to ", r.to.str(), ": ", ec.message());
    }
    for (const auto& r : cfg_.virtualRules)
        if (auto ec = host_.removeRule(r))
            base::log::error("vrrp: ", cfg_.name, ": cannot remove the rule ", conf::ruleText(r), ": ", ec.message());
}

// accept_mode = false (keepalived's no_accept), not the address owner: while master the VIPs are
// held but take no traffic (RFC 5798 Accept_Mode); the drop rules go in before the addresses and
// out after them, as keepalived's.
void Instance::blockAddresses(bool master) {
    const bool want = master && !cfg_.acceptMode && cfg_.priority != 255;
    if (!want && !blocking_) return;
    std::vector<base::IpAddress> list;
    if (want)
        for (const auto* v : allAddresses(cfg_)) list.push_back(v->prefix.address);
    if (auto ec = host_.blockAddresses(cfg_.name, list); ec && want)
        base::log::error("vrrp: ", cfg_.name, ": accept_mode = false: the VIPs are not filtered (", ec.message(),
                         "); they take traffic while master");
    blocking_ = want;
}

void Instance::takeAddresses() {
    const auto all = allAddresses(cfg_);
    blockAddresses(true);
    addAddresses(all);
    addRoutes();  // after the VIPs: a route may use one as its source
    garpBurst(cfg_.garp.masterRepeat, all);
    if (cfg_.garp.masterDelay > base::Duration::zero()) {
        garpTimer_->schedule(cfg_.garp.masterDelay, [this] {
            if (running_ && machine_.state() == State::Master) garpBurst(cfg_.garp.masterRepeat, allAddresses(cfg_));
        });
    }
    if (cfg_.garp.masterRefresh > base::Duration::zero()) refreshGarp();
}

// A lower-priority master was heard (keepalived's vrrp.c, "Received advert ... with lower priority"):
// garp lower_prio_repeat announcements at once and again after lower_prio_delay, and the
// notify_master_rx_lower_pri event. The state machine asks for this once per advert interval at most.
void Instance::heardLowerMaster() {
    const auto t = now();
    if (advertFrom_) {
        if (!lowerLogged_ || t - *lowerLogged_ >= std::chrono::seconds(10)) {
            base::log::warning("vrrp: ", cfg_.name, ": ", advertFrom_->first.str(), " is master too, at priority ",
                               int(advertFrom_->second), " (ours ", int(machine_.config().priority),
                               "): announcing our addresses again; it should yield to our adverts. If this repeats, "
                               "it does not hear them (a one-way link, a filter, another advert_interval or "
                               "authentication)",
                               lowerUnlogged_ ? " (" + std::to_string(lowerUnlogged_) + " more in the last 10 s)" : "");
            lowerLogged_ = t;
            lowerUnlogged_ = 0;
        } else {
            ++lowerUnlogged_;
        }
    }
    const int repeat = announceRepeat();
    if (repeat > 0) {
        garpBurst(repeat, allAddresses(cfg_));
        const auto delay = cfg_.garp.lowerPrioDelay.value_or(cfg_.garp.masterDelay);
        if (delay > base::Duration::zero())
            garpTimer_->schedule(delay, [this, repeat] {
                if (running_ && machine_.state() == State::Master) garpBurst(repeat, allAddresses(cfg_));
            });
        settleAfterLowerMaster(repeat);
    }
    if (onEvent_) onEvent_(cfg_.name, "MASTER_RX_LOWER_PRI");
}

// Another router left MASTER (priority 0) while we are master: it was a second master (a partition,
// a link that flapped) and the clients that followed it are to come back. Not keepalived's (which
// only answers with an advert): our announcements at once, no event.
void Instance::heardRelease() {
    if (advertFrom_)
        base::log::notice("vrrp: ", cfg_.name, ": ", advertFrom_->first.str(),
                          " left MASTER while we are master: announcing our addresses again");
    if (announceRepeat() > 0) garpBurst(announceRepeat(), allAddresses(cfg_));
}

// The lower master announces its addresses as it becomes master, right after its first advert: our
// burst on hearing that advert can reach the clients before its own, and they stay with it (a
// backup) until lower_prio_delay, 5 s by default (found by the chaos run: keepalived as the peer
// missed our adverts under a flood, was master for a few ms, and the clients and servers that
// followed its announcements were cut off when its data plane stopped). So once it has been quiet
// for three advert intervals (it yielded, its announcements sent), we announce once more.
void Instance::settleAfterLowerMaster(int repeat) {
    settleTimer_->schedule(3 * cfg_.advertInterval, [this, repeat] {
        if (running_ && machine_.state() == State::Master) garpBurst(repeat, allAddresses(cfg_));
    });
}

// Another host claimed one of our addresses (an ARP with it as sender, an IPv6 neighbour
// advertisement for it) while we are master: a second
// master that our adverts do not reach (VRRP cut but not ARP; a one-way link) or an address
// conflict. The clients that follow its announcements are stranded when it goes (its release, if
// any, lost on the same cut: found by the chaos run, keepalived as the peer, 3.9 s). As RFC 5227's
// defence: announce once its claims have stopped (three advert intervals: its burst is over), at
// most 3 times in 30 s. Only when no router heard outranks us: a backup has heard the master's
// adverts and stays quiet when it is a second master itself, so two masters do not take the clients
// back and forth. Not keepalived's (garp defend = false turns it off).
void Instance::heardClaim(const Claim& c) {
    if (!running_ || machine_.state() != State::Master) return;
    const conf::VirtualAddress* claimed = nullptr;
    for (const auto* v : allAddresses(cfg_))
        if (v->prefix.address == c.address) claimed = v;
    if (!claimed) return;
    const bool onOurLink =
        c.ifindex == ifindexOf(*claimed) || c.ifindex == ifc_.index || (vmac_ && c.ifindex == baseIndex_);
    // our own frames come back only through a loop; with a VMAC the other master sends from it too
    if (!onOurLink || (!vmac_ && c.mac == ifc_.mac)) return;
    ++claimsHeard_;
    const auto t = now();
    if (!cfg_.garp.defend || announceRepeat() == 0 || outranked()) return;
    while (!defences_.empty() && t - defences_.front() >= std::chrono::seconds(30)) defences_.pop_front();
    if (!claimLogged_ || t - *claimLogged_ >= std::chrono::seconds(10)) {
        base::log::warning("vrrp: ", cfg_.name, ": ", macText(c.mac), " claims ", c.address.str(),
                           " while we are master: a second master our adverts do not reach (VRRP filtered or "
                           "lost one way) or an address conflict; ",
                           defences_.size() < 3 ? "announcing our addresses again once its claims stop"
                                                : "answered 3 times in 30 s already, not again for now",
                           claimsUnlogged_ ? " (" + std::to_string(claimsUnlogged_) + " more claims in the last 10 s)"
                                           : std::string());
        claimLogged_ = t;
        claimsUnlogged_ = 0;
    } else {
        ++claimsUnlogged_;
    }
    if (defences_.size() >= 3) return;
    settleTimer_->schedule(3 * cfg_.advertInterval, [this] {
        if (!running_ || machine_.state() != State::Master || defences_.size() >= 3) return;
        defences_.push_back(now());
        ++defended_;
        garpBurst(announceRepeat(), allAddresses(cfg_));
    });
}

// Whether a router heard since start (its last advert) wins the election against us: a higher
// priority, or the same and a higher address.
bool Instance::outranked() const {
    const int ours = machine_.config().priority;
    for (const auto& [address, priority] : routers_)
        if (priority > ours || (priority == ours && machine_.config().primary < address)) return true;
    return false;
}

// garp_master_refresh: while master, a burst of garp_master_refresh_repeat every so often (switches
// and neighbours that forgot the VIP's MAC learn it again).
void Instance::refreshGarp() {
    refreshTimer_->schedule(cfg_.garp.masterRefresh, [this] {
        if (!running_ || machine_.state() != State::Master) return;
        garpBurst(cfg_.garp.masterRefreshRepeat, allAddresses(cfg_));
        refreshGarp();
    });
}

// `repeat` rounds of one gratuitous ARP (IPv4) or unsolicited NA (IPv6) per address of `which`,
// on the address's interface; garp.interval apart when set (one round at once otherwise).
void Instance::garpBurst(int repeat, const std::vector<const conf::VirtualAddress*>& which) {
    const bool idle = garpQueue_.empty();  // else the pacer is running and takes these too
    // each interface looked up once per burst (its MAC and IPv6 forwarding as they are now)
    std::map<std::string, std::optional<InterfaceInfo>> on;
    for (int i = 0; i < repeat; ++i)
        for (const auto* v : which) {
            const std::string& dev = v->dev.empty() ? cfg_.interface : v->dev;
            auto it = on.find(dev);
            // the instance's own link as it uses it: with a VMAC, the macvlan (its index and MAC)
            if (it == on.end())
                it = on.emplace(dev, vmac_ && v->dev.empty() ? std::optional<InterfaceInfo>(ifc_)
                                                             : host_.interfaceInfo(dev, {}))
                         .first;
            if (it->second) garpQueue_.push_back({v->prefix.address, *it->second});
        }
    if (cfg_.garp.interval <= base::Duration::zero()) {
        while (!garpQueue_.empty()) sendNextGarp();
    } else if (idle) {
        paceGarps();
    }
}

void Instance::sendNextGarp() {
    const auto [address, on] = garpQueue_.front();
    garpQueue_.pop_front();
    if (auto ec = host_.announce(on, address))
        base::log::debug("vrrp: ", cfg_.name, ": announcing ", address.str(), ": ", ec.message());
    else ++announced_;
}

void Instance::paceGarps() {
    if (garpQueue_.empty() || !running_ || machine_.state() != State::Master) {
        garpQueue_.clear();
        return;
    }
    sendNextGarp();
    pacer_->schedule(cfg_.garp.interval, [this] { paceGarps(); });
}

void Instance::releaseAddresses() {
    removeRoutes();  // before the VIPs, which they may use
    garpTimer_->cancel();
    refreshTimer_->cancel();
    pacer_->cancel();
    garpQueue_.clear();
    for (const auto* v : allAddresses(cfg_)) {
        const int idx = ifindexOf(*v);
        if (!idx || !host_.hasAddress(idx, v->prefix.address)) continue;
        if (auto ec = host_.removeAddress(idx, v->prefix))
            base::log::error("vrrp: ", cfg_.name, ": cannot remove ", v->prefix.str(), ": ", ec.message());
    }
    blockAddresses(false);
}

void Instance::drop(Drop d, const base::IpAddress& src) {
    auto& n = drops_[static_cast<size_t>(d)];
    switch (d) {
    case Drop::BadTtl: protoErrReason_ = 1; break;
    case Drop::BadVersion: protoErrReason_ = 2; break;
    case Drop::BadChecksum: protoErrReason_ = 3; break;
    case Drop::WrongVrid: protoErrReason_ = 4; break;
    default: break;
    }
    if (n++ == 0 && d != Drop::WrongVrid)
        base::log::warning("vrrp: ", cfg_.name, ": dropped an advert from ", src.str(), ": ", dropName(d),
                           " (counted; further ones are not logged)");
}

// auth_hmac's part of a packet's judgement: the keys, the replay state, the clock and the window;
// in time mode, what a source sent longer ago than the window no longer bars its next advert.
void Instance::withHmac(AcceptContext& ctx) {
    if (!cfg_.authHmac.enabled) return;
    ctx.nowSeconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    ctx.hmacWindow = hmacWindow();
    if (cfg_.authHmac.antiReplayTime) hmacReplay_.forgetOlderThan(ctx.nowSeconds, ctx.hmacWindow);
    ctx.hmacKeys = &hmacKeys_;
    ctx.hmacReplay = &hmacReplay_;
}

// An accepted trailer: its sequence is the source's last, and a clock past half the window is said.
void Instance::hmacAccepted(const Received& pkt, const Accepted& a, std::uint32_t window) {
    hmacReplay_.accept(pkt.src, *a.hmacSequence, ++hmacHeard_);
    const bool near = 2 * std::abs(a.hmacSkew) > static_cast<std::int64_t>(window);
    if (near && !hmacSkewSaid_)
        base::log::warning("vrrp: ", cfg_.name, ": auth_hmac: ", pkt.src.str(), "'s clock is ", a.hmacSkew,
                           " s from ours, past half of time_window (", window,
                           " s): its adverts will be dropped as stale beyond it; check NTP on both");
    hmacSkewSaid_ = near;
}

void Instance::onPacket(const Received& pkt) {
    if (!running_) return;
    AcceptContext ctx{cfg_, machine_.config().primary, ahKey_, ahSequence_, &siblings_};
    withHmac(ctx);
    auto verdict = judge(ctx, pkt);
    if (std::holds_alternative<Ignored>(verdict)) return;
    if (std::holds_alternative<Drop>(verdict)) return drop(std::get<Drop>(verdict), pkt.src);
    const Accepted& a = std::get<Accepted>(verdict);
    if (a.ahSequence) ahSequence_ = *a.ahSequence;
    if (a.hmacSequence) hmacAccepted(pkt, a, ctx.hmacWindow);
    ++received_;
    if (a.advert.priority > 0) {
        masterSeen_ = pkt.src;
        if (routers_.size() < 64 || routers_.contains(pkt.src)) routers_[pkt.src] = a.advert.priority;
    } else {
        ++priZeroReceived_;
    }
    advertFrom_.emplace(pkt.src, a.advert.priority);
    run(machine_.onAdvert(a.advert, pkt.src, now()));
    advertFrom_.reset();
    if (a.advert.priority > 0) owedRelease(pkt.src);
}

// We left MASTER on a dead link (FAULT), so the priority 0 advert that tells the other router to
// announce went nowhere, and the clients that followed our announcements still send to our MAC.
// When another router was master meanwhile (a partition; our link flapping), nothing else tells
// it: the first advert heard from a master once our link is back gets that release, late (found by
// the chaos run: clients stranded at a director whose link flapped, 1.2 s). Within a minute (the
// clients' neighbour entries are stale by then and they ask again), once.
void Instance::owedRelease(const base::IpAddress& master) {
    if (!releaseOwed_ || machine_.state() != State::Backup) return;
    const bool recent = now() - *releaseOwed_ < std::chrono::seconds(60);
    releaseOwed_.reset();
    if (!recent) return;
    base::log::notice("vrrp: ", cfg_.name,
                      ": sending the priority 0 advert our dead link did not carry when we "
                      "left MASTER, so the master (",
                      master.str(), ") announces the addresses again");
    sendAdvert(0);
}

void Instance::onPathPacket(size_t index, const Received& pkt) {
    if (!running_ || index >= paths_.size()) return;
    Path& p = paths_[index];
    const auto self = pathSource(p);
    if (!self) return;
    AcceptContext ctx{p.judged, *self, ahKey_, p.ahSequence, &siblings_};
    withHmac(ctx);  // the replay state is by source address: each path's peer address is its own
    auto verdict = judge(ctx, pkt);
    if (std::holds_alternative<Ignored>(verdict)) return;
    if (std::holds_alternative<Drop>(verdict)) return drop(std::get<Drop>(verdict), pkt.src);
    const Accepted& a = std::get<Accepted>(verdict);
    if (a.ahSequence) p.ahSequence = *a.ahSequence;
    if (a.hmacSequence) hmacAccepted(pkt, a, ctx.hmacWindow);
    ++received_;
    if (a.advert.priority > 0) {
        if (!masterSeen_) masterSeen_ = pkt.src;  // the primary path's address, when it is heard there
    } else {
        ++priZeroReceived_;
    }
    advertFrom_.emplace(pkt.src, a.advert.priority);
    run(machine_.onAdvert(a.advert, pkt.src, now(), &*self));
    advertFrom_.reset();
}

InstanceGroup::InstanceGroup(std::string name, std::vector<GroupMember*> members, OnState onState)
    : name_(std::move(name)), members_(std::move(members)), onState_(std::move(onState)) {
    for (GroupMember* m : members_) m->joinGroup(this);
}

InstanceGroup::~InstanceGroup() {
    for (GroupMember* m : members_) m->joinGroup(nullptr);
}

void InstanceGroup::setMembers(std::vector<GroupMember*> members) {
    for (GroupMember* m : members_) m->joinGroup(nullptr);
    members_ = std::move(members);
    for (GroupMember* m : members_) m->joinGroup(this);
    logic_ = SyncGroup{};
}

void InstanceGroup::changed(TimePoint now) {
    if (busy_) {
        again_ = true;
        return;
    }
    busy_ = true;
    auto members = [this] {
        std::vector<SyncMember> ms;
        for (GroupMember* m : members_) ms.push_back({&m->machine(), m->ownFault()});
        return ms;
    };
    do {
        again_ = false;
        const auto actions = logic_.settle(members(), now);
        for (size_t i = 0; i < members_.size(); ++i)
            if (!actions[i].empty()) members_[i]->run(actions[i]);
    } while (again_);
    busy_ = false;
    const auto common = SyncGroup::common(members());
    if (common && common != reported_) {
        base::log::notice("vrrp: sync group ", name_, ": ", reported_ ? stateName(*reported_) : "INIT", " -> ",
                          stateName(*common));
        reported_ = common;
        if (onState_) onState_(name_, *common);
    }
}

}  // namespace vrrp
