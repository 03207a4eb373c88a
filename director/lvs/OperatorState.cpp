#include "director/lvs/OperatorState.h"

#include <algorithm>

#include "conf/ToModel.h"

namespace director::lvs {

namespace {

RsId idOf(const conf::VirtualServer& vs, const conf::RealServer& rs) {
    return {serviceKey(vs), kmod::DestKey{rs.address, static_cast<std::uint16_t>(rs.port)}};
}

}  // namespace

bool OperatorState::disable(const RsId& id, std::int64_t wall) {
    if (disabled_.contains(id)) return false;
    disabled_[id] = wall;
    enabledAt_.erase(id);
    return true;
}

bool OperatorState::enable(const RsId& id, std::int64_t wall, base::TimePoint now) {
    if (disabled_.erase(id) == 0) return false;
    enabledAt_[id] = wall;
    rampFrom_[id] = now;
    return true;
}

bool OperatorState::withdraw(bool on) {
    if (withdrawn_ == on) return false;
    withdrawn_ = on;
    return true;
}

void OperatorState::restore(const protocol::OperatorMsg& m) {
    disabled_.clear();
    for (const auto& d : m.disabled) disabled_[{d.service, d.dest}] = d.since;
    withdrawn_ = m.withdrawn;
}

protocol::OperatorMsg OperatorState::message() const {
    protocol::OperatorMsg m;
    for (const auto& [id, since] : disabled_) m.disabled.push_back({id.first, id.second, since});
    m.withdrawn = withdrawn_;
    return m;
}

std::vector<RsId> OperatorState::prune(const conf::Config& cfg) {
    std::set<RsId> known;
    for (const auto& vs : cfg.virtualServers)
        for (const auto& rs : vs.realServers) known.insert(idOf(vs, rs));
    std::vector<RsId> ended;
    for (auto it = disabled_.begin(); it != disabled_.end();) {
        if (known.contains(it->first)) {
            ++it;
            continue;
        }
        ended.push_back(it->first);
        enabledAt_.erase(it->first);
        it = disabled_.erase(it);
    }
    return ended;
}

std::optional<double> OperatorState::ramp(const conf::VirtualServer& vs, const conf::RealServer& rs, const RsId& id,
                                          bool up, const UpSince& upSince, base::TimePoint now) const {
    const base::Duration length = rs.slowStart.value_or(vs.slowStart);
    if (length.count() <= 0 || !up || disabled_.contains(id)) return std::nullopt;
    std::optional<base::TimePoint> from = upSince(id);
    if (auto e = rampFrom_.find(id); e != rampFrom_.end() && (!from || e->second > *from)) from = e->second;
    if (!from) return std::nullopt;
    const double share = rampShare(std::chrono::duration_cast<base::Duration>(now - *from), length);
    if (share >= 1) return std::nullopt;
    return share;
}

bool OperatorState::mark(HealthView& view, const conf::VirtualServer& vs, const UpSince& upSince,
                         base::TimePoint now) const {
    bool ramping = false;
    for (const auto& rs : vs.realServers) {
        const RsId id = idOf(vs, rs);
        if (disabled_.contains(id)) {
            view.disabled.insert(id);
            continue;
        }
        auto h = view.servers.find(id);
        if (auto share = ramp(vs, rs, id, h == view.servers.end() || h->second.up, upSince, now)) {
            view.ramp[id] = *share;
            ramping = true;
        }
    }
    return ramping;
}

base::Duration OperatorState::rampStep(const conf::Config& cfg, const std::set<kmod::ServiceKey>& services) {
    base::Duration step = std::chrono::seconds(1);
    for (const auto& vs : cfg.virtualServers) {
        if (!services.contains(serviceKey(vs))) continue;
        for (const auto& rs : vs.realServers)
            if (const auto length = rs.slowStart.value_or(vs.slowStart); length.count() > 0)
                step = std::min(step, std::max<base::Duration>(length / 20, std::chrono::milliseconds(50)));
    }
    return step;
}

void OperatorState::forgetOldRamps(base::TimePoint now) {
    for (auto it = rampFrom_.begin(); it != rampFrom_.end();)
        it = now - it->second > std::chrono::hours(1) ? rampFrom_.erase(it) : std::next(it);
}

std::optional<std::int64_t> OperatorState::disabledSince(const RsId& id) const {
    auto it = disabled_.find(id);
    return it == disabled_.end() ? std::nullopt : std::optional(it->second);
}

std::set<RsId> OperatorState::disabledIds() const {
    std::set<RsId> out;
    for (const auto& [id, since] : disabled_) out.insert(id);
    return out;
}

std::optional<std::int64_t> OperatorState::enabledAt(const RsId& id) const {
    auto it = enabledAt_.find(id);
    return it == enabledAt_.end() ? std::nullopt : std::optional(it->second);
}

}  // namespace director::lvs
