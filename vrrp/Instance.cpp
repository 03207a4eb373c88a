#include "vrrp/Instance.h"

#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "base/Log.h"
#include "vrrp/Ah.h"

namespace vrrp {

namespace {

MachineConfig machineConfig(const conf::VrrpInstance& c) {
    MachineConfig m;
    m.version = c.version;
    m.vrid = static_cast<std::uint8_t>(c.vrid);
    m.priority = static_cast<std::uint8_t>(c.priority);
    m.advertInterval = std::chrono::duration_cast<Micros>(c.advertInterval);
    m.preempt = !c.nopreempt;
    m.preemptDelay = std::chrono::duration_cast<Micros>(c.preemptDelay);
    return m;
}

}  // namespace

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

Instance::Instance(asio::io_context& io, conf::VrrpInstance cfg, OnState onState)
    : io_(io), cfg_(std::move(cfg)), onState_(std::move(onState)), machine_(machineConfig(cfg_)),
      ahKey_(ahKey(cfg_.authPassword)), socket_(io), timer_(io), garpTimer_(io), linkTimer_(io), refreshTimer_(io),
      pacer_(io) {}

Instance::~Instance() {
    linkTimer_.cancel();
    timer_.cancel();
    garpTimer_.cancel();
    refreshTimer_.cancel();
    pacer_.cancel();
    socket_.close();
}

// The interface a virtual address goes on: its own dev, or the instance's (0: no such interface).
int Instance::ifindexOf(const conf::VirtualAddress& v) const {
    if (v.dev.empty()) return ifc_.index;
    return static_cast<int>(::if_nametoindex(v.dev.c_str()));
}

std::vector<base::IpAddress> Instance::vips() const {
    std::vector<base::IpAddress> out;
    for (const auto& v : cfg_.virtualAddresses) out.push_back(v.prefix.address);
    return out;
}

bool Instance::start() {
    const std::string who = "vrrp: " + cfg_.name + ": ";
    auto info = interfaceInfo(cfg_.interface, vips());
    if (!info) {
        base::log::error(who, "no interface ", cfg_.interface,
                         "; the instance stays INIT (fix the config or the system, then reload)");
        return false;
    }
    ifc_ = *info;
    MachineConfig mc = machineConfig(cfg_);
    mc.primary = source().value_or(base::IpAddress{});  // none yet: FAULT (below) until there is one
    machine_ = StateMachine(mc);
    machine_.setGated(group_ != nullptr);
    if (auto ec = socket_.open(cfg_.interface, ifc_.index, cfg_.family, cfg_.unicastPeers.empty(), ah())) {
        base::log::error(who, "cannot open the VRRP socket on ", cfg_.interface, ": ", ec.message(),
                         " (directord needs root or CAP_NET_RAW); the instance stays INIT");
        return false;
    }
    socket_.receive([this](const base::IpAddress& src, const base::IpAddress& dst, int ttl,
                           std::span<const std::uint8_t> b,
                           std::span<const std::uint8_t> datagram) { onPacket(src, dst, ttl, b, datagram); });
    running_ = true;
    base::log::info(who, "starting on ", cfg_.interface, " (vrid ", cfg_.vrid, ", priority ", cfg_.priority, ", v",
                    cfg_.version, cfg_.family == base::Family::V6 ? " IPv6" : "", ", advert every ",
                    base::toSeconds(cfg_.advertInterval), " s, ",
                    cfg_.unicastPeers.empty() ? std::string("multicast")
                                              : "unicast to " + std::to_string(cfg_.unicastPeers.size()) + " peer(s)",
                    group_ ? ", sync group " + group_->name() : std::string(), ")");
    noSource_ = !source();
    if (noSource_)
        base::log::warning(who, cfg_.interface, " has no usable ",
                           cfg_.family == base::Family::V4 ? "IPv4" : "link-local IPv6",
                           " address to send adverts from: FAULT until it has one");
    run(machine_.startup(std::chrono::steady_clock::now()));
    checkLinks();
    watchLinks();
    return true;
}

void Instance::watchLinks() {
    linkTimer_.expires_after(std::chrono::milliseconds(200));
    linkTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !running_) return;
        checkLinks();
        watchLinks();
    });
}

void Instance::checkLinks() {
    if (noSource_) {  // IPv6: the link-local address appears once DAD is done
        if (auto info = interfaceInfo(cfg_.interface, vips())) ifc_ = *info;
        if (auto src = source()) {
            noSource_ = false;
            machine_.setPrimary(*src);
            base::log::notice("vrrp: ", cfg_.name, ": sending adverts from ", src->str());
        }
    }
    bool fault = !linkUp(cfg_.interface);
    int delta = 0;
    for (const auto& t : cfg_.trackInterfaces) {
        if (linkUp(t.interface)) continue;
        if (t.weight == 0) fault = true;
        else delta += t.weight;
    }
    linkFault_ = fault;
    linkDelta_ = delta;
    applyTracking();
    // a VIP removed behind our back while we are master comes back
    if (machine_.state() == State::Master)
        for (const auto& v : cfg_.virtualAddresses) {
            const int idx = ifindexOf(v);
            if (idx && !vipManager_.present(idx, v.prefix.address)) {
                base::log::warning("vrrp: ", cfg_.name, ": ", v.prefix.str(),
                                   " was removed from the interface while this director is master; adding it back");
                if (!vipManager_.add(idx, v.prefix, v.label, v.scope))
                    (void)vipManager_.announce(ifc_, v.prefix.address);
            }
        }
}

void Instance::setScriptTracking(int delta, bool fault) {
    scriptDelta_ = delta;
    scriptFault_ = fault;
    if (running_) applyTracking();
}

void Instance::applyTracking() {
    const int delta = linkDelta_ + scriptDelta_;
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
                          fault ? (noSource_    ? "no address to send from: FAULT"
                                   : linkFault_ ? "a tracked link is down: FAULT"
                                                : "a tracked script fails: FAULT")
                                : "tracking is healthy again");
        if (group_) group_->changed();  // the group puts every member in FAULT, or takes them out
        else run(machine_.onFault(fault, std::chrono::steady_clock::now()));
    }
}

void Instance::joinGroup(InstanceGroup* g) {
    group_ = g;
    machine_.setGated(g != nullptr);
}

void Instance::stop() {
    if (!running_) return;
    linkTimer_.cancel();
    run(machine_.shutdown(std::chrono::steady_clock::now()));
    running_ = false;
    timer_.cancel();
    garpTimer_.cancel();
    refreshTimer_.cancel();
    pacer_.cancel();
    socket_.close();
}

void Instance::arm() {
    timer_.cancel();
    const auto d = machine_.deadline();
    if (!d || !running_) return;
    timer_.expires_at(*d);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !running_) return;
        run(machine_.onTimer(std::chrono::steady_clock::now()));
    });
}

void Instance::run(const std::vector<Action>& actions) {
    for (const auto& a : actions) {
        switch (a.kind) {
        case Action::Kind::SendAdvert: sendAdvert(a.priority); break;
        case Action::Kind::TakeAddresses: takeAddresses(); break;
        case Action::Kind::ReleaseAddresses: releaseAddresses(); break;
        case Action::Kind::Transition: {
            const State from = reported_;
            reported_ = a.to;
            base::log::notice("vrrp: ", cfg_.name, ": ", stateName(from), " -> ", stateName(a.to));
            if (onState_) onState_(cfg_.name, from, a.to);
            break;
        }
        }
    }
    arm();
    if (group_ && running_) group_->changed();
}

void Instance::sendAdvert(std::uint8_t priority) {
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
    if (ah()) ad.auth = AuthType::Ah;  // its 8 bytes stay zero; the AH header carries the ICV
    const auto from = source();
    if (!from) return;  // FAULT already: nothing to send from
    const ChecksumMode mode{cfg_.checksumPseudoHeader};
    // IPv4 multicast without unicast_source goes from the kernel's choice (the primary address)
    const std::optional<base::IpAddress> pin = cfg_.family == base::Family::V6 ? from : cfg_.unicastSource;
    // AH: one sequence number and IP id per advert (all unicast copies share them, as keepalived)
    AhSeal seal;
    if (ah()) {
        if (++ipId_ == 0) ipId_ = 1;
        seal.ipId = ipId_;
        seal.sequence = ++ahSequence_;
        seal.unicast = !cfg_.unicastPeers.empty();
    }
    auto wire = [&](const base::IpAddress& dst) {
        auto bytes = encode(ad, *from, dst, mode);
        return ah() ? ahSeal(bytes, *from, dst, ahKey_, seal) : bytes;
    };
    if (cfg_.unicastPeers.empty()) {
        const auto dst = group();
        if (auto ec = socket_.send(wire(dst), dst, pin))
            base::log::warning("vrrp: ", cfg_.name, ": advert not sent: ", ec.message());
        else ++sent_;
    } else {
        for (const auto& peer : cfg_.unicastPeers) {
            if (auto ec = socket_.send(wire(peer), peer, pin))
                base::log::warning("vrrp: ", cfg_.name, ": advert to ", peer.str(), " not sent: ", ec.message());
            else ++sent_;
        }
    }
}

void Instance::takeAddresses() {
    for (const auto* list : {&cfg_.virtualAddresses, &cfg_.excludedAddresses})
        for (const auto& v : *list) {
            const int idx = ifindexOf(v);
            if (auto ec = vipManager_.add(idx, v.prefix, v.label, v.scope))
                base::log::error("vrrp: ", cfg_.name, ": cannot add ", v.prefix.str(), ": ", ec.message());
        }
    garpBurst(cfg_.garp.masterRepeat);
    if (cfg_.garp.masterDelay > base::Duration::zero()) {
        garpTimer_.expires_after(cfg_.garp.masterDelay);
        garpTimer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && running_ && machine_.state() == State::Master) garpBurst(cfg_.garp.masterRepeat);
        });
    }
    if (cfg_.garp.masterRefresh > base::Duration::zero()) refreshGarp();
}

// garp_master_refresh: while master, a burst of garp_master_refresh_repeat every so often (switches
// and neighbours that forgot the VIP's MAC learn it again).
void Instance::refreshGarp() {
    refreshTimer_.expires_after(cfg_.garp.masterRefresh);
    refreshTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !running_ || machine_.state() != State::Master) return;
        garpBurst(cfg_.garp.masterRefreshRepeat);
        refreshGarp();
    });
}

// `repeat` rounds of one gratuitous ARP (IPv4) or unsolicited NA (IPv6) per virtual and excluded
// address, on the address's interface; garp.interval apart when set (one round at once otherwise).
void Instance::garpBurst(int repeat) {
    const bool idle = garpQueue_.empty();  // else the pacer is running and takes these too
    // each interface looked up once per burst (its MAC and IPv6 forwarding as they are now)
    std::map<std::string, std::optional<InterfaceInfo>> on;
    for (int i = 0; i < repeat; ++i)
        for (const auto* list : {&cfg_.virtualAddresses, &cfg_.excludedAddresses})
            for (const auto& v : *list) {
                const std::string& dev = v.dev.empty() ? cfg_.interface : v.dev;
                auto it = on.find(dev);
                if (it == on.end()) it = on.emplace(dev, interfaceInfo(dev)).first;
                if (it->second) garpQueue_.push_back({v.prefix.address, *it->second});
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
    if (auto ec = vipManager_.announce(on, address))
        base::log::debug("vrrp: ", cfg_.name, ": announcing ", address.str(), ": ", ec.message());
    else ++announced_;
}

void Instance::paceGarps() {
    if (garpQueue_.empty() || !running_ || machine_.state() != State::Master) {
        garpQueue_.clear();
        return;
    }
    sendNextGarp();
    pacer_.expires_after(cfg_.garp.interval);
    pacer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) paceGarps();
    });
}

void Instance::releaseAddresses() {
    garpTimer_.cancel();
    refreshTimer_.cancel();
    pacer_.cancel();
    garpQueue_.clear();
    for (const auto* list : {&cfg_.virtualAddresses, &cfg_.excludedAddresses})
        for (const auto& v : *list) {
            const int idx = ifindexOf(v);
            if (auto ec = vipManager_.remove(idx, v.prefix))
                base::log::error("vrrp: ", cfg_.name, ": cannot remove ", v.prefix.str(), ": ", ec.message());
        }
}

void Instance::drop(Drop d, const base::IpAddress& src) {
    auto& n = drops_[static_cast<size_t>(d)];
    if (n++ == 0 && d != Drop::WrongVrid)
        base::log::warning("vrrp: ", cfg_.name, ": dropped an advert from ", src.str(), ": ", dropName(d),
                           " (counted; further ones are not logged)");
}

void Instance::onPacket(const base::IpAddress& src, const base::IpAddress& dst, int ttl,
                        std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> datagram) {
    if (!running_) return;
    if (src == machine_.config().primary) return;  // our own (multicast loop is off; unicast echo)
    // RFC 5798: TTL / hop limit 255. Checked on multicast only, as keepalived (which sends unicast
    // IPv6 adverts with the default hop limit): unicast peers are configured by address anyway.
    if (ttl != 255 && dst.isMulticast()) return drop(Drop::BadTtl, src);
    std::optional<std::uint32_t> sequence;
    if (ah()) {
        auto opened = ahOpen(datagram, ahKey_);
        if (std::holds_alternative<Drop>(opened)) return drop(std::get<Drop>(opened), src);
        bytes = std::get<AhOpened>(opened).vrrp;
        sequence = std::get<AhOpened>(opened).sequence;
    }
    auto r = decode(bytes, src, dst);
    if (std::holds_alternative<Drop>(r)) return drop(std::get<Drop>(r), src);
    const Advert& a = std::get<Decoded>(r).advert;
    if (a.vrid != cfg_.vrid) return drop(Drop::WrongVrid, src);
    if (a.version != cfg_.version) return drop(Drop::BadVersion, src);
    if (a.version == 2) {
        const auto want = ah() ? AuthType::Ah : cfg_.authType == conf::AuthType::Pass ? AuthType::Pass : AuthType::None;
        if (a.auth != want) return drop(Drop::AuthType, src);
        // one counter for what we saw and sent: a restarted peer is heard again once it numbers above it
        if (sequence) {
            if (*sequence <= ahSequence_) return drop(Drop::Replay, src);
            ahSequence_ = *sequence;
        }
        if (want == AuthType::Pass) {
            std::array<std::uint8_t, 8> pw{};
            std::memcpy(pw.data(), cfg_.authPassword.data(), std::min<size_t>(8, cfg_.authPassword.size()));
            if (pw != a.authData) return drop(Drop::AuthMismatch, src);
        }
        if (a.interval != std::chrono::duration_cast<Micros>(cfg_.advertInterval))
            return drop(Drop::IntervalMismatch, src);
    }
    if (!cfg_.unicastPeers.empty() &&
        std::find(cfg_.unicastPeers.begin(), cfg_.unicastPeers.end(), src) == cfg_.unicastPeers.end())
        return drop(Drop::AddressMismatch, src);
    ++received_;
    if (a.priority > 0) masterSeen_ = src;
    run(machine_.onAdvert(a, src, std::chrono::steady_clock::now()));
}

InstanceGroup::InstanceGroup(std::string name, std::vector<Instance*> members, OnState onState)
    : name_(std::move(name)), members_(std::move(members)), onState_(std::move(onState)) {
    for (Instance* m : members_) m->joinGroup(this);
}

InstanceGroup::~InstanceGroup() {
    for (Instance* m : members_) m->joinGroup(nullptr);
}

void InstanceGroup::changed() {
    if (busy_) {
        again_ = true;
        return;
    }
    busy_ = true;
    auto members = [this] {
        std::vector<SyncMember> ms;
        for (Instance* m : members_) ms.push_back({&m->machine(), m->ownFault()});
        return ms;
    };
    do {
        again_ = false;
        const auto actions = logic_.settle(members(), std::chrono::steady_clock::now());
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
