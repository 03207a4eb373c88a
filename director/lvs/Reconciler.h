// Reconciler: makes the data plane's table match the desired one, touching only what the director
// owns (the services its config defines, and those it defined before a reload until they are gone).
// Services an operator added by hand with ipvsadm/ipvsctl are left alone, as keepalived leaves them.
// setDesired() applies the delta of a change; resync() repairs drift found by a full dump.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kmod/IpvsTable.h"

namespace director::lvs {

struct ReconcileOutcome {
    bool dumped = false;  // false: the dump failed, nothing was applied
    std::error_code dumpError;
    std::vector<kmod::Op> ops;
    kmod::ApplyResult result;
};

class Reconciler {
public:
    explicit Reconciler(kmod::IpvsTable& table) : table_(table) {}

    ReconcileOutcome setDesired(kmod::TableState desired);
    // Only the services in `keys` change: `part` holds what they should be (a key it lacks is
    // no longer wanted). Diffs and applies just those; the rest of the table is not looked at.
    ReconcileOutcome setDesiredFor(const std::set<kmod::ServiceKey>& keys, kmod::TableState part);
    // Full dump and repair. Logs each repaired difference: someone changed the table behind our back.
    ReconcileOutcome resync();
    // Deletes every service the director owns (shutdown with flush_on_stop = created).
    ReconcileOutcome releaseOwned();

    const kmod::TableState& desired() const { return desired_; }
    const std::set<kmod::ServiceKey>& owned() const { return owned_; }
    std::uint64_t repairs() const { return repairs_; }

private:
    ReconcileOutcome converge(const char* why);
    ReconcileOutcome finish(const char* why, ReconcileOutcome& out);
    kmod::IpvsTable& table_;
    kmod::TableState desired_;
    std::set<kmod::ServiceKey> owned_;
    std::uint64_t repairs_ = 0;
    std::optional<kmod::TableState> applied_;  // our services as the last successful converge left them
};

}  // namespace director::lvs
