#include "director/lvs/BfdRelay.h"

#include <set>

#include "base/Log.h"
#include "director/checks/CheckKind.h"

namespace director::lvs {

void BfdRelay::configure(const conf::Config& cfg) {
    std::set<std::string> tracked;
    for (const auto& v : cfg.vrrpInstances)
        for (const auto& t : v.trackBfds) tracked.insert(t.bfd);
    std::map<std::string, Watch> next;
    std::set<std::string> start;
    for (const auto& b : cfg.bfdInstances) {
        if (!tracked.contains(b.name) || !b.neighbor) continue;
        auto peer = checks::bfdPeer(b);
        auto old = watches_.find(b.name);
        if (old != watches_.end() && old->second.peer == peer) {  // unchanged: keeps running
            next.emplace(b.name, std::move(old->second));
            continue;
        }
        next.emplace(b.name, Watch{peer, std::make_unique<healthcheck::BfdProbe>(io_, peer)});
        start.insert(b.name);
    }
    const bool fresh = watches_.empty();
    watches_ = std::move(next);  // changed and dropped ones stop here (their sessions say AdminDown)
    for (const auto& name : start) run(name);
    if (fresh && !watches_.empty())
        base::log::info("bfd: ", watches_.size(), " session(s) followed for VRRP tracking");
}

void BfdRelay::run(const std::string& name) {
    auto it = watches_.find(name);
    if (it == watches_.end()) return;
    it->second.probe->run([this, name](healthcheck::ProbeResult r) {
        send_(name, r.ok());
        if (!r.ok() && r.failure == healthcheck::Failure::Error) {  // no session: nothing will change
            base::log::error("bfd: cannot run the session ", name, " VRRP tracks: ", r.output,
                             "; instances tracking it count it as down until a reload fixes it");
            return;
        }
        // the next report is the next change (the probe waits for it: no timer)
        asio::post(io_, [this, name] { run(name); });
    });
}

}  // namespace director::lvs
