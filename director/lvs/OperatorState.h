// OperatorState: the operator's part of the lvs worker's desired table (docs/ARCHITECTURE.md, the
// operator's state). Real servers disabled by `directorctl disable` (weight 0 until `enable`, across
// reloads and worker restarts), when each was enabled again, the slow starts under way, and whether
// the whole director is withdrawn (`directorctl withdraw`: every announced VIP withdrawn).
// Pure: no clock, no I/O; time and the checks' view are passed in, so every rule has a unit test.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/Clock.h"
#include "conf/Config.h"
#include "director/lvs/DesiredState.h"
#include "director/protocol/Messages.h"

namespace director::lvs {

class OperatorState {
public:
    // When health last turned a real server UP (nullopt: no transition, up since it was configured).
    using UpSince = std::function<std::optional<base::TimePoint>(const RsId&)>;

    // directorctl disable / enable: false when it already was so. `wall` is Unix time (shown in
    // status), `now` the worker's clock (an enable starts a slow start from there).
    bool disable(const RsId& id, std::int64_t wall);
    bool enable(const RsId& id, std::int64_t wall, base::TimePoint now);
    bool disabled(const RsId& id) const { return disabled_.contains(id); }
    // directorctl withdraw / rejoin: false when it already was so.
    bool withdraw(bool on);
    bool withdrawn() const { return withdrawn_; }

    // A restarted worker takes over what its predecessor published.
    void restore(const protocol::OperatorMsg& m);
    // What the supervisor keeps for the next worker.
    protocol::OperatorMsg message() const;
    // A reload: disables of real servers the config no longer has end with them; what ended.
    std::vector<RsId> prune(const conf::Config& cfg);

    // The share of its weight `rs` has now (nullopt: in full). A slow start runs from the later of
    // its last UP transition and its last enable, for rs.slow_start (or the virtual server's).
    std::optional<double> ramp(const conf::VirtualServer& vs, const conf::RealServer& rs, const RsId& id, bool up,
                               const UpSince& upSince, base::TimePoint now) const;
    // Marks `vs`'s real servers in `view` as the operator has them at `now`: disabled, or ramping.
    // True when one of them is ramping.
    bool mark(HealthView& view, const conf::VirtualServer& vs, const UpSince& upSince, base::TimePoint now) const;
    // How often a ramp of `services` is stepped: a twentieth of the shortest slow start (of those
    // that have one), between 50 ms and 1 s.
    static base::Duration rampStep(const conf::Config& cfg, const std::set<kmod::ServiceKey>& services);
    // Enables whose slow start is surely over (an hour on) are forgotten.
    void forgetOldRamps(base::TimePoint now);

    // Unix time: when a real server was disabled / last enabled.
    std::optional<std::int64_t> disabledSince(const RsId& id) const;
    std::optional<std::int64_t> enabledAt(const RsId& id) const;
    size_t disabledCount() const { return disabled_.size(); }
    std::set<RsId> disabledIds() const;
    const std::map<RsId, std::int64_t>& disabledTimes() const { return disabled_; }
    const std::map<RsId, std::int64_t>& enabledTimes() const { return enabledAt_; }

private:
    std::map<RsId, std::int64_t> disabled_;      // since (Unix time)
    std::map<RsId, std::int64_t> enabledAt_;     // Unix time, shown in status
    std::map<RsId, base::TimePoint> rampFrom_;  // a slow start counts from here (enable)
    bool withdrawn_ = false;
};

}  // namespace director::lvs
