// A simulated LAN for real vrrp::Instances with the manual clock: each director has a FakeHost
// (links, the addresses on them, the announcements it sent) and its instances' FakeTransports,
// whose adverts (the real encoded bytes) reach every other director's transports on the LAN a
// little later, unless the LAN is partitioned. The instances' own code runs unchanged: decode,
// judge(), the state machine, VIP handling, GARP bursts, reconfigure, resume.
#pragma once
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/Clock.h"
#include "conf/Loader.h"
#include "vrrp/Host.h"
#include "vrrp/Instance.h"

namespace simlan {

using namespace std::chrono_literals;
using vrrp::State;

class Lan;

class FakeTransport : public vrrp::Transport {
public:
    FakeTransport(Lan& lan, int director);
    ~FakeTransport() override;
    std::error_code open(const Spec& spec) override;
    std::error_code send(std::span<const std::uint8_t> bytes, const base::IpAddress& dst,
                         const std::optional<base::IpAddress>& src) override;
    void receive(std::function<void(const vrrp::Received&)> cb) override { onPacket_ = std::move(cb); }
    void close() override;
    void deliver(const vrrp::Received& r) {
        if (open_ && onPacket_) onPacket_(r);
    }
    bool isOpen() const { return open_; }
    base::Family family() const { return spec_.family; }
    const Spec& spec() const { return spec_; }
    int director() const { return director_; }
    std::uint64_t id() const { return id_; }

private:
    Lan& lan_;
    int director_;
    std::uint64_t id_;
    Spec spec_;
    bool open_ = false;
    std::function<void(const vrrp::Received&)> onPacket_;
};

class FakeHost : public vrrp::Host {
public:
    FakeHost(Lan& lan, int director, base::IpAddress primaryV4, base::IpAddress linkLocal)
        : lan_(lan), director_(director), v4_(primaryV4), v6_(linkLocal) {}
    std::optional<vrrp::InterfaceInfo> interfaceInfo(const std::string& name,
                                                     const std::vector<base::IpAddress>&) override {
        if (name != "eth0") return std::nullopt;
        vrrp::InterfaceInfo i;
        i.index = 1;
        i.mac = {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(director_)};
        i.primaryV4 = v4_;
        i.linkLocalV6 = v6_;
        return i;
    }
    bool linkUp(const std::string& name) override { return name == "eth0" && up; }
    int ifindex(const std::string& name) override {
        return name == "eth0" ? 1 : vmacs.contains(name) ? vmacs.at(name).second : 0;
    }
    std::error_code addAddress(int ifindex, const base::IpPrefix& p, const std::string&, const std::string&) override {
        addresses.insert(p.address);
        addedOn[p.address] = ifindex;
        ++adds;
        return {};
    }
    // VMACs: made with the next index (kept while they exist), removed on request
    vrrp::VmacResult ensureVmac(const vrrp::VmacSpec& spec) override {
        if (vmacs.contains(spec.name)) return {{}, vmacs.at(spec.name).second, false};
        vmacs[spec.name] = {spec, nextIndex++};
        return {{}, vmacs.at(spec.name).second, true};
    }
    void removeVmac(const vrrp::VmacSpec& spec) override { vmacs.erase(spec.name); }
    std::error_code blockAddresses(const std::string& instance, const std::vector<base::IpAddress>& list) override {
        if (list.empty()) blocked.erase(instance);
        else blocked[instance] = {list, addresses.size()};
        return {};
    }
    std::error_code removeAddress(int, const base::IpPrefix& p) override {
        addresses.erase(p.address);
        return {};
    }
    bool hasAddress(int, const base::IpAddress& a) override { return addresses.contains(a); }
    std::error_code announce(const vrrp::InterfaceInfo&, const base::IpAddress& vip) override;
    std::unique_ptr<vrrp::Transport> transport() override;
    // the other directors' announcements (and Lan::claim's) reach these, as ARP on eth0 (index 1)
    std::unique_ptr<vrrp::Subscription> watchClaims(std::function<void(const vrrp::Claim&)> cb) override;
    std::map<std::uint64_t, std::function<void(const vrrp::Claim&)>> claimWatchers;
    std::uint64_t nextWatcher = 1;

    bool up = true;
    std::set<base::IpAddress> addresses;
    std::map<base::IpAddress, int> addedOn;  // the link each address was last added on
    std::map<std::string, std::pair<vrrp::VmacSpec, int>> vmacs;
    // no_accept: the addresses blocked per instance, and how many addresses the host had then
    std::map<std::string, std::pair<std::vector<base::IpAddress>, size_t>> blocked;
    int nextIndex = 7;
    std::vector<std::array<std::uint8_t, 6>> announcedFrom;  // the MAC of each announcement
    size_t adds = 0;
    std::vector<std::pair<base::TimePoint, base::IpAddress>> announced;

private:
    Lan& lan_;
    int director_;
    base::IpAddress v4_, v6_;
};

// One director: its host and its instances, each instance's transitions recorded.
struct Director {
    Director(Lan& lan, int id);
    Lan& lan;
    int id;
    FakeHost host;
    std::map<std::string, std::unique_ptr<vrrp::Instance>> instances;
    std::map<std::string, std::vector<State>> transitions;
    // A new instance, not started.
    vrrp::Instance& add(const conf::VrrpInstance& cfg);
    // kill -9 of the worker: no priority-0 advert, the addresses stay on the link.
    void crash(const std::string& name);
    vrrp::Instance& at(const std::string& name) { return *instances.at(name); }
    base::IpAddress primary;
};

class Lan {
public:
    base::ManualClock clock;
    base::Duration latency = 200us;  // an advert's time on the wire
    // directors on different sides of a partition do not hear each other
    std::map<int, int> side;
    // a partition that cuts VRRP only (a filter): announcements still cross it
    bool cutsVrrpOnly = false;
    // a lossy link: a packet from one director to another is lost when this says so
    std::function<bool(int from, int to)> drop;
    std::vector<FakeTransport*> transports;
    std::uint64_t nextTransport = 1;
    FakeTransport* find(std::uint64_t id) const {
        for (FakeTransport* t : transports)
            if (t->id() == id) return t;
        return nullptr;  // closed, or destroyed (a crashed worker's)
    }
    std::vector<std::unique_ptr<Director>> directors;

    Director& director() {
        directors.push_back(std::make_unique<Director>(*this, static_cast<int>(directors.size()) + 1));
        return *directors.back();
    }
    void runFor(base::Duration d) { clock.advance(d); }
    void partition(int a, int b) {
        side[a] = 1;
        side[b] = 2;
    }
    void heal() { side.clear(); }
    bool hears(int from, int to) const {
        auto a = side.find(from), b = side.find(to);
        return a == side.end() || b == side.end() || a->second == b->second;
    }
    // Puts `bytes` on the wire from `from` (a spoofed packet when no director sends it).
    void inject(int from, const base::IpAddress& src, const base::IpAddress& dst, std::vector<std::uint8_t> bytes) {
        auto data = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
        for (FakeTransport* t : transports) {
            if (t->director() == from || !hears(from, t->director())) continue;
            if (!directors.at(static_cast<size_t>(t->director()) - 1)->host.up) continue;
            if (t->family() != src.family()) continue;
            if (drop && drop(from, t->director())) continue;
            // the LAN owns the timers (not their callbacks): they go before the clock does
            std::erase_if(wire_, [](const std::unique_ptr<base::Timer>& w) { return !w->pending(); });
            wire_.push_back(clock.makeTimer());
            wire_.back()->schedule(latency, [this, id = t->id(), src, dst, data] {
                if (FakeTransport* to = find(id)) to->deliver(vrrp::Received{src, dst, 255, *data, {}, false});
            });
        }
    }
    // An ARP claim of `address` from `mac`, put on the wire by director `from` (9: a host that is none).
    void claim(int from, const base::IpAddress& address, const std::array<std::uint8_t, 6>& mac) {
        if (from <= static_cast<int>(directors.size()) && !directors.at(static_cast<size_t>(from) - 1)->host.up) return;
        for (const auto& d : directors) {
            if (d->id == from || !d->host.up || (!cutsVrrpOnly && !hears(from, d->id))) continue;
            std::erase_if(wire_, [](const std::unique_ptr<base::Timer>& w) { return !w->pending(); });
            wire_.push_back(clock.makeTimer());
            wire_.back()->schedule(latency, [host = &d->host, address, mac] {
                const vrrp::Claim c{1, address, mac};
                for (auto ids = host->claimWatchers; auto& [id, f] : ids)
                    if (host->claimWatchers.contains(id)) f(c);
            });
        }
    }
    ~Lan() {
        directors.clear();
        wire_.clear();
    }
    size_t masters(const std::string& name) const {
        size_t n = 0;
        for (const auto& d : directors)
            if (auto it = d->instances.find(name); it != d->instances.end() && it->second->state() == State::Master)
                ++n;
        return n;
    }

private:
    std::vector<std::unique_ptr<base::Timer>> wire_;
};

inline FakeTransport::FakeTransport(Lan& lan, int director)
    : lan_(lan), director_(director), id_(lan.nextTransport++) {}

inline FakeTransport::~FakeTransport() { close(); }

inline std::error_code FakeTransport::open(const Spec& spec) {
    close();
    spec_ = spec;
    open_ = true;
    lan_.transports.push_back(this);
    return {};
}

inline void FakeTransport::close() {
    if (!open_) return;
    open_ = false;
    std::erase(lan_.transports, this);
}

inline std::error_code FakeTransport::send(std::span<const std::uint8_t> bytes, const base::IpAddress& dst,
                                           const std::optional<base::IpAddress>& src) {
    const auto& self = *lan_.directors.at(static_cast<size_t>(director_) - 1);
    // a link that is down carries nothing (the kernel says so at once)
    if (!self.host.up) return std::make_error_code(std::errc::network_unreachable);
    const base::IpAddress from = src ? *src : self.primary;
    lan_.inject(director_, from, dst, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return {};
}

inline std::error_code FakeHost::announce(const vrrp::InterfaceInfo& on, const base::IpAddress& vip) {
    announced.emplace_back(lan_.clock.now(), vip);
    announcedFrom.push_back(on.mac);
    lan_.claim(director_, vip, on.mac);
    return {};
}

inline std::unique_ptr<vrrp::Subscription> FakeHost::watchClaims(std::function<void(const vrrp::Claim&)> cb) {
    struct Watch : vrrp::Subscription {
        FakeHost& host;
        std::uint64_t id;
        Watch(FakeHost& h, std::uint64_t i) : host(h), id(i) {}
        ~Watch() override { host.claimWatchers.erase(id); }
    };
    const auto id = nextWatcher++;
    claimWatchers.emplace(id, std::move(cb));
    return std::make_unique<Watch>(*this, id);
}

inline std::unique_ptr<vrrp::Transport> FakeHost::transport() {
    return std::make_unique<FakeTransport>(lan_, director_);
}

inline Director::Director(Lan& l, int i)
    : lan(l), id(i), host(l, i, base::IpAddress::v4(0x0a630000u + static_cast<std::uint32_t>(10 + i)),
                          *base::IpAddress::parse("fe80::" + std::to_string(i))),
      primary(base::IpAddress::v4(0x0a630000u + static_cast<std::uint32_t>(10 + i))) {}

inline vrrp::Instance& Director::add(const conf::VrrpInstance& cfg) {
    const std::string name = cfg.name;
    auto inst = std::make_unique<vrrp::Instance>(
        lan.clock, host, cfg, [this, name](const std::string&, State, State to) { transitions[name].push_back(to); });
    auto& ref = *inst;
    instances[name] = std::move(inst);
    return ref;
}

inline void Director::crash(const std::string& name) { instances.erase(name); }

// An instance's config from libconfig text (one group), through the real loader.
inline conf::VrrpInstance instanceConfig(const std::string& body) {
    auto r =
        conf::loadString("vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; " + body + " } );", "t.conf");
    for (const auto& d : r.diagnostics) INFO(d.str());
    REQUIRE(r.ok());
    return r.config->vrrpInstances.at(0);
}

}  // namespace simlan
