#include "vrrp/Instance.h"

#include <algorithm>
#include <cstring>

#include "director/base/Log.h"

namespace vrrp {

namespace {

MachineConfig machineConfig(const conf::VrrpInstance& c) {
    MachineConfig m;
    m.version = c.version;
    m.vrid = static_cast<std::uint8_t>(c.vrid);
    m.priority = static_cast<std::uint8_t>(c.priority);
    m.advertInterval = Micros(static_cast<std::int64_t>(c.advertInterval * 1e6));
    m.preempt = !c.nopreempt;
    m.preemptDelay = Micros(static_cast<std::int64_t>(c.preemptDelay * 1e6));
    return m;
}

const base::IpAddress kGroup = base::IpAddress::v4(0xe0000012);  // 224.0.0.18

}  // namespace

Instance::Instance(asio::io_context& io, conf::VrrpInstance cfg, OnState onState)
    : io_(io), cfg_(std::move(cfg)), onState_(std::move(onState)), machine_(machineConfig(cfg_)), socket_(io), timer_(io),
      garpTimer_(io), linkTimer_(io) {}

Instance::~Instance() {
    linkTimer_.cancel();
    timer_.cancel();
    garpTimer_.cancel();
    socket_.close();
}

// The interface a virtual address goes on: its own dev, or the instance's (0: no such interface).
int Instance::ifindexOf(const conf::VirtualAddress& v) const {
    if (v.dev.empty()) return ifc_.index;
    const auto info = interfaceInfo(v.dev);
    return info ? info->index : 0;
}

std::vector<base::IpAddress> Instance::vips() const {
    std::vector<base::IpAddress> out;
    for (const auto& v : cfg_.virtualAddresses) out.push_back(v.prefix.address);
    return out;
}

bool Instance::start() {
    const std::string who = "vrrp: " + cfg_.name + ": ";
    if (cfg_.family != base::Family::V4) {
        base::log::error(who, "IPv6 instances are not in this build yet; the instance stays INIT");
        return false;
    }
    auto info = interfaceInfo(cfg_.interface, vips());
    if (!info) {
        base::log::error(who, "no interface ", cfg_.interface, "; the instance stays INIT (fix the config or the system, then reload)");
        return false;
    }
    ifc_ = *info;
    MachineConfig mc = machineConfig(cfg_);
    mc.primary = cfg_.unicastSource ? *cfg_.unicastSource : ifc_.primaryV4.value_or(base::IpAddress::v4(0));
    machine_ = StateMachine(mc);
    if (auto ec = socket_.open(cfg_.interface, ifc_.index, cfg_.unicastPeers.empty())) {
        base::log::error(who, "cannot open the VRRP socket on ", cfg_.interface, ": ", ec.message(),
                         " (directord needs root or CAP_NET_RAW); the instance stays INIT");
        return false;
    }
    socket_.receive([this](const base::IpAddress& src, const base::IpAddress& dst, int ttl, std::span<const std::uint8_t> b) {
        onPacket(src, dst, ttl, b);
    });
    running_ = true;
    base::log::info(who, "starting on ", cfg_.interface, " (vrid ", cfg_.vrid, ", priority ", cfg_.priority, ", v",
                    cfg_.version, ", advert every ", cfg_.advertInterval, " s, ",
                    cfg_.unicastPeers.empty() ? std::string("multicast") : "unicast to " + std::to_string(cfg_.unicastPeers.size()) + " peer(s)",
                    ")");
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
                if (!vipManager_.add(idx, v.prefix, v.label, v.scope)) (void)vipManager_.gratuitousArp(ifc_, v.prefix.address);
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
    const bool fault = linkFault_ || scriptFault_;
    if (fault != faulted_) {
        faulted_ = fault;
        base::log::notice("vrrp: ", cfg_.name, ": ",
                          fault ? (linkFault_ ? "a tracked link is down: FAULT" : "a tracked script fails: FAULT")
                                : "tracking is healthy again");
        run(machine_.onFault(fault, std::chrono::steady_clock::now()));
    }
}

void Instance::stop() {
    if (!running_) return;
    linkTimer_.cancel();
    run(machine_.shutdown(std::chrono::steady_clock::now()));
    running_ = false;
    timer_.cancel();
    garpTimer_.cancel();
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
}

void Instance::sendAdvert(std::uint8_t priority) {
    Advert ad;
    ad.version = cfg_.version;
    ad.vrid = static_cast<std::uint8_t>(cfg_.vrid);
    ad.priority = priority;
    ad.interval = Micros(static_cast<std::int64_t>(cfg_.advertInterval * 1e6));
    ad.addresses = vips();
    if (cfg_.version == 2 && cfg_.authType == conf::AuthType::Pass) {
        ad.auth = AuthType::Pass;
        std::memcpy(ad.authData.data(), cfg_.authPassword.data(), std::min<size_t>(8, cfg_.authPassword.size()));
    }
    const base::IpAddress src = machine_.config().primary;
    const ChecksumMode mode{cfg_.checksumPseudoHeader};
    if (cfg_.unicastPeers.empty()) {
        const auto bytes = encode(ad, src, kGroup, mode);
        if (auto ec = socket_.send(bytes, kGroup, cfg_.unicastSource)) base::log::warning("vrrp: ", cfg_.name, ": advert not sent: ", ec.message());
    } else {
        for (const auto& peer : cfg_.unicastPeers) {
            const auto bytes = encode(ad, src, peer, mode);
            if (auto ec = socket_.send(bytes, peer, cfg_.unicastSource))
                base::log::warning("vrrp: ", cfg_.name, ": advert to ", peer.str(), " not sent: ", ec.message());
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
    if (cfg_.garp.masterDelay > 0) {
        garpTimer_.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(cfg_.garp.masterDelay * 1e6)));
        garpTimer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && running_ && machine_.state() == State::Master) garpBurst(cfg_.garp.masterRepeat);
        });
    }
}

void Instance::garpBurst(int repeat) {
    for (int i = 0; i < repeat; ++i)
        for (const auto& v : cfg_.virtualAddresses)
            if (v.prefix.address.isV4()) (void)vipManager_.gratuitousArp(ifc_, v.prefix.address);
}

void Instance::releaseAddresses() {
    garpTimer_.cancel();
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

void Instance::onPacket(const base::IpAddress& src, const base::IpAddress& dst, int ttl, std::span<const std::uint8_t> bytes) {
    if (!running_) return;
    if (src == machine_.config().primary) return;  // our own (multicast loop is off; unicast echo)
    if (ttl != 255) return drop(Drop::BadTtl, src);
    auto r = decode(bytes, src, dst);
    if (std::holds_alternative<Drop>(r)) return drop(std::get<Drop>(r), src);
    const Advert& a = std::get<Decoded>(r).advert;
    if (a.vrid != cfg_.vrid) return drop(Drop::WrongVrid, src);
    if (a.version != cfg_.version) return drop(Drop::BadVersion, src);
    if (a.version == 2) {
        const auto want = cfg_.authType == conf::AuthType::Pass ? AuthType::Pass : AuthType::None;
        if (a.auth != want) return drop(Drop::AuthType, src);
        if (want == AuthType::Pass) {
            std::array<std::uint8_t, 8> pw{};
            std::memcpy(pw.data(), cfg_.authPassword.data(), std::min<size_t>(8, cfg_.authPassword.size()));
            if (pw != a.authData) return drop(Drop::AuthMismatch, src);
        }
        if (a.interval != Micros(static_cast<std::int64_t>(cfg_.advertInterval) * 1000000)) return drop(Drop::IntervalMismatch, src);
    }
    if (!cfg_.unicastPeers.empty() &&
        std::find(cfg_.unicastPeers.begin(), cfg_.unicastPeers.end(), src) == cfg_.unicastPeers.end())
        return drop(Drop::AddressMismatch, src);
    ++received_;
    run(machine_.onAdvert(a, src, std::chrono::steady_clock::now()));
}

}  // namespace vrrp
