#include "director/VrrpWorker.h"

#include "director/ReloadPlanner.h"
#include "director/base/Log.h"

namespace director {

VrrpWorker::VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer)
    : io_(io), cfg_(std::move(cfg)), peer_(peer) {
    peer_.onLine([](const std::string& line) { base::log::debug("vrrp: ignoring peer message '", line, "'"); });
}

void VrrpWorker::startInstance(const conf::VrrpInstance& v) {
    roles_[v.name] = vrrp::State::Init;
    auto inst = std::make_unique<vrrp::Instance>(io_, v, [this](const std::string& name, vrrp::State, vrrp::State to) {
        roles_[name] = to;
        peer_.send("role " + name + " " + vrrp::stateName(to));
    });
    inst->start();
    instances_[v.name] = std::move(inst);
}

void VrrpWorker::start() {
    if (cfg_.vrrpInstances.empty()) base::log::info("vrrp: no vrrp_instances configured");
    for (const auto& v : cfg_.vrrpInstances) startInstance(v);
    announce();
}

void VrrpWorker::announce() {
    for (const auto& v : cfg_.vrrpInstances) peer_.send("role " + v.name + " " + vrrp::stateName(roles_[v.name]));
}

void VrrpWorker::reload(conf::Config next) {
    const ReloadPlan plan = planReload(cfg_, next);
    for (const auto& name : plan.vrrpRemoved) {
        if (auto it = instances_.find(name); it != instances_.end()) {
            it->second->stop();
            instances_.erase(it);
        }
        roles_.erase(name);
    }
    for (const auto& name : plan.vrrpChanged)
        if (auto it = instances_.find(name); it != instances_.end()) {
            it->second->stop();
            instances_.erase(it);
        }
    cfg_ = std::move(next);
    for (const auto& v : cfg_.vrrpInstances)
        if (!instances_.contains(v.name)) startInstance(v);
    base::log::info("reload: vrrp: ", plan.vrrpAdded.size(), " instances added, ", plan.vrrpRemoved.size(),
                    " removed, ", plan.vrrpChanged.size(), " changed, ", plan.vrrpKept.size(), " unchanged");
    announce();
}

void VrrpWorker::stop() {
    base::log::info("vrrp: stopping");
    for (auto& [name, inst] : instances_) inst->stop();
    instances_.clear();
}

}  // namespace director
