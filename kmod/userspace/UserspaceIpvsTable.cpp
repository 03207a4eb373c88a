#include "kmod/userspace/UserspaceIpvsTable.h"

#include <algorithm>
#include <cerrno>

#include "base/Log.h"
#include "kmod/memory/InMemoryIpvsTable.h"
#include "kmod/sched/Registry.h"
#include "kmod/sched/Scheduler.h"

namespace kmod::userspace {

UserspaceIpvsTable::UserspaceIpvsTable(unsigned threads) {
    auto local = std::make_unique<LocalPlane>(threads);
    local_ = local.get();
    link_ = std::move(local);
}

UserspaceIpvsTable::UserspaceIpvsTable(std::unique_ptr<PlaneLink> link) : link_(std::move(link)) {}

UserspaceIpvsTable::~UserspaceIpvsTable() = default;

base::Result<TableState> UserspaceIpvsTable::dump() { return state_; }

base::Result<TableStatus> UserspaceIpvsTable::status() { return link_->status(); }

std::error_code UserspaceIpvsTable::refuse(const Op& op) const {
    const char* why = nullptr;
    if (op.isServiceOp() && op.kind != Op::Kind::DelService) {
        const Service& s = op.service;
        if (s.key.isFwmark()) why = "fwmark services need the kernel plane";
        else if (s.key.protocol == kSctp) why = "SCTP needs the kernel plane";
        else if (const sched::SchedulerInfo* info = sched::findScheduler(s.scheduler); info && !(info->planes & sched::kUserspacePlane))
            why = "this plane does not have that scheduler";
    }
    if ((op.kind == Op::Kind::AddDest || op.kind == Op::Kind::EditDest) && op.dest.forwarding != Forwarding::Masq)
        why = "the userspace plane forwards with full NAT only (DR and tunnel need the kernel plane)";
    if (!why) return {};
    base::log::error("userspace plane: refusing ", op.str(), ": ", why);
    return base::errnoCode(EOPNOTSUPP);
}

ApplyResult UserspaceIpvsTable::apply(const std::vector<Op>& ops) {
    ApplyResult r;
    for (size_t i = 0; i < ops.size(); ++i) {
        const Op& op = ops[i];
        const std::error_code refused = refuse(op);
        if (!r.record(i, op, refused ? refused : applyLikeKernel(state_, op))) continue;
        const ServiceKey& k = op.service.key;
        auto& order = order_[k];
        switch (op.kind) {
        case Op::Kind::DelService:
            for (const auto& d : order) {
                lastWeight_.erase({k, d});
                ids_.erase({k, d});
            }
            order_.erase(k);
            versions_.erase(k);
            continue;
        case Op::Kind::AddDest:
            order.insert(order.begin(), op.dest.key);  // as list_add_rcu: at the head
            lastWeight_[{k, op.dest.key}] = static_cast<int>(op.dest.weight);
            ids_[{k, op.dest.key}] = nextId_++;
            break;
        case Op::Kind::EditDest:
            if (op.dest.weight != 0) lastWeight_[{k, op.dest.key}] = static_cast<int>(op.dest.weight);
            break;
        case Op::Kind::DelDest:
            order.erase(std::remove(order.begin(), order.end(), op.dest.key), order.end());
            lastWeight_.erase({k, op.dest.key});
            ids_.erase({k, op.dest.key});
            break;
        default: break;
        }
        versions_[k] = nextVersion_++;
    }
    if (r.applied) publish();
    return r;
}

PlaneTable UserspaceIpvsTable::planeTable() const {
    PlaneTable t;
    t.timeouts = timeouts_;
    t.limits = limits_;
    t.services.reserve(state_.services.size());
    for (const auto& [key, entry] : state_.services) {
        PlaneService& ps = t.services.emplace_back();
        ps.service = entry.service;
        ps.version = versions_.at(key);
        const auto& order = order_.at(key);
        ps.dests.reserve(order.size());
        for (const auto& dk : order)
            ps.dests.push_back(PlaneDest{entry.dests.at(dk), lastWeight_.at({key, dk}), ids_.at({key, dk})});
    }
    return t;
}

void UserspaceIpvsTable::publish() { link_->load(planeTable()); }

void UserspaceIpvsTable::adopt(const PlaneTable& table) {
    state_ = {};
    order_.clear();
    lastWeight_.clear();
    ids_.clear();
    versions_.clear();
    timeouts_ = table.timeouts;
    limits_ = table.limits;
    for (const auto& ps : table.services) {
        const ServiceKey& k = ps.service.key;
        state_.addService(ps.service);
        versions_[k] = ps.version;
        nextVersion_ = std::max(nextVersion_, ps.version + 1);
        auto& order = order_[k];
        for (const auto& d : ps.dests) {
            state_.addDest(k, d.dest);
            order.push_back(d.dest.key);
            lastWeight_[{k, d.dest.key}] = d.lastWeight;
            ids_[{k, d.dest.key}] = d.id;
            nextId_ = std::max(nextId_, d.id + 1);
        }
    }
}

std::error_code UserspaceIpvsTable::flush() {
    state_.services.clear();
    order_.clear();
    lastWeight_.clear();
    ids_.clear();
    versions_.clear();
    publish();
    return {};
}

std::error_code UserspaceIpvsTable::zero(const std::optional<ServiceKey>& only) {
    if (only && !state_.services.contains(*only)) return base::errnoCode(ESRCH);
    link_->zero(only);
    return {};
}

base::Result<std::vector<ConnEntry>> UserspaceIpvsTable::connections() { return link_->connections(); }

std::error_code UserspaceIpvsTable::setTimeouts(const Timeouts& t) {
    if (t.tcp) timeouts_.tcp = t.tcp;
    if (t.tcpFin) timeouts_.tcpFin = t.tcpFin;
    if (t.udp) timeouts_.udp = t.udp;
    publish();
    return {};
}

std::shared_ptr<const DestCounters> UserspaceIpvsTable::counters(const ServiceKey& svc, const DestKey& dest) const {
    return local_ ? local_->forwarder().counters(svc, dest) : nullptr;
}

}  // namespace kmod::userspace
