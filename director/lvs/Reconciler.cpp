#include "director/lvs/Reconciler.h"

#include <chrono>

#include "base/Log.h"
#include "kmod/Diff.h"

namespace director::lvs {

ReconcileOutcome Reconciler::setDesired(kmod::TableState desired) {
    desired_ = std::move(desired);
    for (const auto& [k, e] : desired_.services) owned_.insert(k);
    return converge("apply");
}

ReconcileOutcome Reconciler::setDesiredFor(const std::set<kmod::ServiceKey>& keys, kmod::TableState part) {
    if (!applied_) {  // the table's state is not known: a full converge reads it
        for (const auto& k : keys) {
            if (auto it = part.services.find(k); it != part.services.end()) desired_.services[k] = it->second;
            else desired_.services.erase(k);
        }
        for (const auto& [k, e] : desired_.services) owned_.insert(k);
        return converge("apply");
    }
    kmod::TableState before;
    for (const auto& k : keys) {
        if (auto it = applied_->services.find(k); it != applied_->services.end()) before.services.emplace(k, it->second);
        if (auto it = part.services.find(k); it != part.services.end()) {
            desired_.services[k] = it->second;
            owned_.insert(k);
        } else {
            desired_.services.erase(k);
        }
    }
    ReconcileOutcome out;
    out.dumped = true;
    out.ops = kmod::diff(before, part);
    if (out.ops.empty()) return out;
    for (const auto& op : out.ops) base::log::debug("ipvs: apply: ", op.str());
    const auto started = std::chrono::steady_clock::now();
    out.result = table_.apply(out.ops);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (!out.result.ok()) {
        applied_.reset();  // read the table back next time
        const auto& f = *out.result.firstFailure;
        base::log::error("ipvs: apply: ", out.result.failed, " of ", out.ops.size(), " ops refused; first: ",
                         f.op.str(), ": ", f.error.message(), "; will retry at the next resync");
        return out;
    }
    for (const auto& k : keys) {
        if (auto it = part.services.find(k); it != part.services.end()) applied_->services[k] = std::move(it->second);
        else {
            applied_->services.erase(k);
            owned_.erase(k);
        }
    }
    base::log::info("ipvs: apply: ", out.ops.size(), " ops applied to the ", table_.name(), " table in ", ms, " ms");
    return out;
}

ReconcileOutcome Reconciler::resync() { return converge("resync"); }

ReconcileOutcome Reconciler::releaseOwned() {
    desired_ = {};
    return converge("release");
}

ReconcileOutcome Reconciler::converge(const char* why) {
    ReconcileOutcome out;
    const bool drift = std::string_view(why) == "resync";
    // A change (reload, health) is diffed against what the last converge left in the table: no dump
    // of a table that may hold 10,000 services for a one-weight edit. The periodic resync dumps.
    if (!drift && applied_) {
        out.dumped = true;
        out.ops = kmod::diff(*applied_, desired_);
        return finish(why, out);
    }
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
    return finish(why, out);
}

ReconcileOutcome Reconciler::finish(const char* why, ReconcileOutcome& out) {
    const bool drift = std::string_view(why) == "resync";
    if (out.ops.empty()) {
        applied_ = desired_;
        return out;
    }
    for (const auto& op : out.ops) {
        if (drift)
            base::log::warning("ipvs: repairing drift: ", op.str(), " (the table was changed outside directord)");
        else base::log::debug("ipvs: ", why, ": ", op.str());
    }
    const auto started = std::chrono::steady_clock::now();
    out.result = table_.apply(out.ops);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (out.result.ok()) applied_ = desired_;
    else applied_.reset();  // some op failed: read the table back next time
    if (drift) repairs_ += out.result.applied;
    if (out.result.firstFailure) {
        const auto& f = *out.result.firstFailure;
        base::log::error("ipvs: ", why, ": ", out.result.failed, " of ", out.ops.size(),
                         " ops refused; first: ", f.op.str(), ": ", f.error.message(),
                         "; will retry at the next resync");
    } else if (!drift) {
        base::log::info("ipvs: ", why, ": ", out.ops.size(), " ops applied to the ", table_.name(), " table in ", ms,
                        " ms");
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

}  // namespace director::lvs
