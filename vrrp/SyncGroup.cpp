#include "vrrp/SyncGroup.h"

#include <algorithm>

namespace vrrp {

std::vector<std::vector<Action>> SyncGroup::settle(std::span<const SyncMember> members, TimePoint now) {
    const size_t n = members.size();
    std::vector<std::vector<Action>> out(n);
    if (last_.size() != n) last_.assign(n, State::Init);
    auto append = [&](size_t i, std::vector<Action> a) { out[i].insert(out[i].end(), a.begin(), a.end()); };
    auto state = [&](size_t i) { return members[i].machine->state(); };
    // each rule changes states in one direction, so a few rounds reach a fixed point
    for (int round = 0; round < 4; ++round) {
        bool changed = false;
        const bool fault = std::any_of(members.begin(), members.end(), [](const SyncMember& m) { return m.ownFault; });
        for (size_t i = 0; i < n; ++i)
            if ((state(i) == State::Fault) != fault && state(i) != State::Init) {
                append(i, members[i].machine->onFault(fault, now));
                changed = true;
            }
        if (!fault) {
            bool leftMaster = false;
            for (size_t i = 0; i < n; ++i) leftMaster |= last_[i] == State::Master && state(i) == State::Backup;
            const bool anyMaster = std::any_of(members.begin(), members.end(),
                                               [](const SyncMember& m) { return m.machine->state() == State::Master; });
            const bool allWant = n > 0 && std::all_of(members.begin(), members.end(),
                                                      [](const SyncMember& m) { return m.machine->wantsMaster(); });
            for (size_t i = 0; i < n; ++i) {
                std::vector<Action> a;
                if (leftMaster && state(i) == State::Master) a = members[i].machine->forceBackup(now);
                else if (!leftMaster && (anyMaster || allWant) && state(i) == State::Backup)
                    a = members[i].machine->forceMaster(now);
                if (!a.empty()) changed = true;
                append(i, std::move(a));
            }
        }
        for (size_t i = 0; i < n; ++i) last_[i] = state(i);
        if (!changed) break;
    }
    return out;
}

std::optional<State> SyncGroup::common(std::span<const SyncMember> members) {
    if (members.empty()) return std::nullopt;
    const State s = members.front().machine->state();
    if (s == State::Init) return std::nullopt;
    for (const auto& m : members)
        if (m.machine->state() != s) return std::nullopt;
    return s;
}

}  // namespace vrrp
