#include "director/Reconciler.h"

#include "director/base/Log.h"
#include "kmod/Diff.h"

namespace director {

ReconcileOutcome Reconciler::setDesired(kmod::TableState desired) {
    desired_ = std::move(desired);
    for (const auto& [k, e] : desired_.services) owned_.insert(k);
    return converge("apply");
}

ReconcileOutcome Reconciler::resync() { return converge("resync"); }

ReconcileOutcome Reconciler::releaseOwned() {
    desired_ = {};
    return converge("release");
}

ReconcileOutcome Reconciler::converge(const char* why) {
    ReconcileOutcome out;
    auto observed = table_.dump();
    if (!observed) {
        out.dumpError = observed.error();
        base::log::error("ipvs: ", why, ": cannot read the ", table_.name(), " table: ", out.dumpError.message(),
                         "; will retry at the next resync");
        return out;
    }
    out.dumped = true;
    kmod::TableState mine;
    for (const auto& [k, e] : observed->services)
        if (owned_.contains(k)) mine.services.emplace(k, e);
    out.ops = kmod::diff(mine, desired_);
    if (out.ops.empty()) return out;

    const bool drift = std::string_view(why) == "resync";
    for (const auto& op : out.ops) {
        if (drift) base::log::warning("ipvs: repairing drift: ", op.str(), " (the table was changed outside directord)");
        else base::log::debug("ipvs: ", why, ": ", op.str());
    }
    out.result = table_.apply(out.ops);
    if (drift) repairs_ += out.result.applied;
    if (out.result.firstFailure) {
        const auto& f = *out.result.firstFailure;
        base::log::error("ipvs: ", why, ": ", out.result.failed, " of ", out.ops.size(), " ops refused; first: ",
                         f.op.str(), ": ", f.error.message(), "; will retry at the next resync");
    } else if (!drift) {
        base::log::info("ipvs: ", why, ": ", out.ops.size(), " ops applied to the ", table_.name(), " table");
    }
    // Forget services that are gone and no longer wanted.
    std::set<kmod::ServiceKey> still;
    for (const auto& [k, e] : desired_.services) still.insert(k);
    if (out.result.failed)
        for (const auto& op : out.ops)
            if (op.kind == kmod::Op::Kind::DelService) still.insert(op.service.key);  // retry later
    owned_ = std::move(still);
    return out;
}

}  // namespace director
