#include "kmod/memory/InMemoryIpvsTable.h"

#include <algorithm>
#include <array>
#include <cerrno>

#include "kmod/Diff.h"
#include "kmod/sched/Registry.h"

namespace kmod::memory {

bool isKnownScheduler(const std::string& name) { return sched::findScheduler(name) != nullptr; }

base::Result<TableState> InMemoryIpvsTable::dump() {
    if (dumpError_) return dumpError_;
    return state_;
}

base::Result<TableStatus> InMemoryIpvsTable::status() {
    if (dumpError_) return dumpError_;
    TableStatus st;
    for (const auto& [k, e] : state_.services) {
        auto& s = st[k];
        for (const auto& [dk, d] : e.dests) s.dests[dk];
    }
    return st;
}

ApplyResult InMemoryIpvsTable::apply(const std::vector<Op>& ops) {
    ApplyResult r;
    for (size_t i = 0; i < ops.size(); ++i) {
        const Op& op = ops[i];
        opLog_.push_back(op);
        std::error_code ec = injector_ ? injector_(op) : std::error_code{};
        r.record(i, op, ec ? ec : applyLikeKernel(state_, op));
    }
    return r;
}

std::error_code InMemoryIpvsTable::flush() {
    state_.services.clear();
    return {};
}

std::error_code InMemoryIpvsTable::setTimeouts(const Timeouts& t) {
    if (t.tcp) timeouts_.tcp = t.tcp;
    if (t.tcpFin) timeouts_.tcpFin = t.tcpFin;
    if (t.udp) timeouts_.udp = t.udp;
    return {};
}

}  // namespace kmod::memory

namespace kmod {

// Declared with the table interface (kmod/IpvsTable.h): the model's own rules, every plane's shadow.
std::error_code applyLikeKernel(TableState& t, const Op& op) {
    if ((op.kind == Op::Kind::AddService || op.kind == Op::Kind::EditService) &&
        !memory::isKnownScheduler(op.service.scheduler))
        return base::errnoCode(ENOENT);
    int err = 0;
    return applyOp(t, op, &err) ? std::error_code{} : base::errnoCode(err);
}

}  // namespace kmod
