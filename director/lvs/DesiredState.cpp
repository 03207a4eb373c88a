#include "director/lvs/DesiredState.h"

#include <algorithm>
#include <cmath>

namespace director::lvs {

double rampShare(base::Duration elapsed, base::Duration length) {
    if (length.count() <= 0 || elapsed >= length) return 1;
    if (elapsed.count() <= 0) return 0;
    return static_cast<double>(elapsed.count()) / static_cast<double>(length.count());
}

std::uint32_t rampedWeight(std::uint32_t weight, double share) {
    if (weight == 0 || share >= 1) return weight;
    const auto w = static_cast<std::uint32_t>(std::ceil(static_cast<double>(weight) * share));
    return std::clamp<std::uint32_t>(w, 1, weight);
}

long liveWeight(const conf::VirtualServer& vs, const HealthView& health, const std::set<RsId>& alsoDisabled) {
    const auto key = serviceKey(vs);
    long sum = 0;
    for (const auto& rs : vs.realServers) {
        const RsId id{key, kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}};
        if (health.disabled.contains(id) || alsoDisabled.contains(id)) continue;
        auto it = health.servers.find(id);
        if (it == health.servers.end()) sum += rs.weight;
        else if (it->second.up) sum += it->second.weight.value_or(rs.weight);
    }
    return sum;
}

std::optional<bool> QuorumTracker::update(long live, int quorum, int hysteresis) {
    if (up_ && live < static_cast<long>(quorum) - hysteresis) up_ = false;
    else if (!up_ && live >= static_cast<long>(quorum) + hysteresis) up_ = true;
    else return std::nullopt;
    return up_;
}

namespace {

template <class Want>
kmod::TableState build(const conf::Config& cfg, const HealthView& health, Want want) {
    kmod::TableState t;
    for (const auto& vs : cfg.virtualServers) {
        if (!want(vs)) continue;
        const kmod::Service s = serviceOf(vs);
        t.addService(s);
        if (vs.sorryServer && health.quorumLost.contains(s.key)) {
            conf::RealServer sorry;
            sorry.address = vs.sorryServer->address;
            sorry.port = vs.sorryServer->port;
            sorry.weight = vs.sorryServer->weight;
            sorry.forwarding = vs.sorryServer->forwarding;
            t.addDest(s.key, destOf(vs, sorry));
            continue;
        }
        for (const auto& rs : vs.realServers) {
            kmod::Dest d = destOf(vs, rs);
            const RsId id{s.key, d.key};
            auto it = health.servers.find(id);
            if (it != health.servers.end()) {
                if (it->second.up) {
                    if (it->second.weight) d.weight = static_cast<std::uint32_t>(*it->second.weight);
                } else if (rs.inhibitOnFailure.value_or(vs.inhibitOnFailure)) {
                    d.weight = 0;
                } else {
                    continue;
                }
            }
            if (health.disabled.contains(id)) d.weight = 0;
            else if (auto r = health.ramp.find(id); r != health.ramp.end())
                d.weight = rampedWeight(d.weight, r->second);
            t.addDest(s.key, d);
        }
    }
    return t;
}

}  // namespace

kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health) {
    return build(cfg, health, [](const conf::VirtualServer&) { return true; });
}

kmod::TableState desiredTable(const conf::Config& cfg, const HealthView& health,
                              const std::set<kmod::ServiceKey>& only) {
    return build(cfg, health, [&](const conf::VirtualServer& vs) { return only.contains(serviceKey(vs)); });
}

}  // namespace director::lvs
