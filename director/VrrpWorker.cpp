#include "director/VrrpWorker.h"

#include "director/ReloadPlanner.h"
#include "director/base/Log.h"

namespace director {

VrrpWorker::VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer)
    : io_(io), cfg_(std::move(cfg)), peer_(peer) {
    peer_.onLine([](const std::string& line) { base::log::debug("vrrp: ignoring peer message '", line, "'"); });
}

void VrrpWorker::start() {
    if (cfg_.vrrpInstances.empty()) base::log::info("vrrp: no vrrp_instances configured");
    for (const auto& v : cfg_.vrrpInstances)
        base::log::warning("vrrp: instance ", v.name, " (vrid ", v.vrid, " on ", v.interface, ", priority ",
                           v.priority, ") loaded but not running: this build has no VRRP engine yet; it stays INIT and"
                           " owns none of its ", v.virtualAddresses.size(), " virtual addresses");
    announce();
}

void VrrpWorker::announce() {
    for (const auto& v : cfg_.vrrpInstances) peer_.send("role " + v.name + " INIT");
}

void VrrpWorker::reload(conf::Config next) {
    const ReloadPlan plan = planReload(cfg_, next);
    cfg_ = std::move(next);
    base::log::info("reload: vrrp: ", plan.vrrpAdded.size(), " instances added, ", plan.vrrpRemoved.size(),
                    " removed, ", plan.vrrpChanged.size(), " changed, ", plan.vrrpKept.size(), " unchanged");
    announce();
}

void VrrpWorker::stop() { base::log::info("vrrp: stopping"); }

}  // namespace director
