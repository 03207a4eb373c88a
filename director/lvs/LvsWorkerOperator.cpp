// The lvs worker's wiring of its operator part (director/lvs/OperatorState.h): what directorctl
// disabled and the slow starts marked into the health view the table is made from, the ramp's
// timer, and what a reload prunes.
#include "base/Log.h"
#include "director/lvs/LvsWorker.h"

namespace director::lvs {

lvs::OperatorState::UpSince LvsWorker::upSince() const {
    return [this](const RsId& id) -> std::optional<base::TimePoint> {
        if (auto since = health_->since(id); since && since->transition) return since->at;
        return std::nullopt;
    };
}

void LvsWorker::markOperator(HealthView& view, const std::set<kmod::ServiceKey>* only) {
    const base::TimePoint now = deps_.timers->now();
    const auto up = upSince();
    if (!only) ramping_.clear();
    for (const auto& vs : cfg_.virtualServers) {
        const auto key = serviceKey(vs);
        if (only && !only->contains(key)) continue;
        ramping_.erase(key);
        if (operator_.mark(view, vs, up, now)) ramping_.insert(key);
    }
    armRamp();
}

HealthView LvsWorker::operatorView() const {
    HealthView view = health_->view();
    const base::TimePoint now = deps_.timers->now();
    const auto up = upSince();
    for (const auto& vs : cfg_.virtualServers) operator_.mark(view, vs, up, now);
    return view;
}

// While a slow start runs, its services are recomputed every second (more often for short ones);
// only the weights that changed reach the table.
void LvsWorker::armRamp() {
    if (ramping_.empty() || stopped_) {
        rampTimer_->cancel();
        return;
    }
    if (rampTimer_->pending()) return;
    rampTimer_->schedule(lvs::OperatorState::rampStep(cfg_, ramping_), [this] {
        operator_.forgetOldRamps(deps_.timers->now());
        requestRecompute(ramping_);
    });
}

// Disables of real servers the config no longer has end with them (an operator who adds the server
// back gets it enabled).
std::string LvsWorker::pruneDisabled() {
    const auto ended = operator_.prune(cfg_);
    for (const auto& id : ended)
        base::log::info("control: vs ", id.first.str(), " rs ", id.second.str(),
                        ": no longer in the config; its disable ends with it");
    if (ended.empty()) return {};
    publishOperator();
    return std::to_string(ended.size()) + " disable(s) ended with their real servers";
}

void LvsWorker::publishOperator() { toSupervisor_(operator_.message()); }

}  // namespace director::lvs
