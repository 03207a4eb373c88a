// A sync group (keepalived's vrrp_sync_group) as pure logic over the members' state machines:
// after any event on any member, settle() says what the others must do so that the group moves as
// one (the caller runs each member's actions as its own):
//   - a member in FAULT by its own trackers puts every member in FAULT, until none is;
//   - a master that becomes backup (a higher priority peer) takes the other masters to backup,
//     each announcing priority 0 so the peer director's members take over at once;
//   - a member that became master by itself (the address owner) takes the others to master;
//   - otherwise members become master only together, once all of them want to (their
//     Master_Down_Timers ran out): a director never holds half a group.
#pragma once
#include <span>
#include <vector>

#include "vrrp/StateMachine.h"

namespace vrrp {

struct SyncMember {
    StateMachine* machine = nullptr;
    bool ownFault = false;  // its own trackers (links, scripts) say FAULT
};

class SyncGroup {
public:
    // Every member's machine must be gated (StateMachine::setGated) for the group to decide.
    // Returns the actions for each member, index-aligned with `members`.
    std::vector<std::vector<Action>> settle(std::span<const SyncMember> members, TimePoint now);
    // MASTER, BACKUP or FAULT once every member is in it; nullopt while they differ (or INIT).
    static std::optional<State> common(std::span<const SyncMember> members);

private:
    std::vector<State> last_;  // the states seen at the end of the previous settle()
};

}  // namespace vrrp
