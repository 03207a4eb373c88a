#include "kmod/Diff.h"

#include <cerrno>

namespace kmod {

std::vector<Op> diff(const TableState& observed, const TableState& desired) {
    std::vector<Op> ops;
    for (const auto& [key, entry] : observed.services)
        if (!desired.services.contains(key)) ops.push_back(Op{Op::Kind::DelService, entry.service, {}});

    std::vector<Op> adds;
    for (const auto& [key, want] : desired.services) {
        auto it = observed.services.find(key);
        if (it == observed.services.end()) {
            adds.push_back(Op{Op::Kind::AddService, want.service, {}});
            for (const auto& [dk, d] : want.dests) adds.push_back(Op{Op::Kind::AddDest, want.service, d});
            continue;
        }
        const ServiceEntry& have = it->second;
        if (!(have.service == want.service)) ops.push_back(Op{Op::Kind::EditService, want.service, {}});
        for (const auto& [dk, d] : have.dests)
            if (!want.dests.contains(dk)) ops.push_back(Op{Op::Kind::DelDest, want.service, d});
        for (const auto& [dk, d] : want.dests) {
            auto hd = have.dests.find(dk);
            if (hd != have.dests.end() && !(hd->second == d)) ops.push_back(Op{Op::Kind::EditDest, want.service, d});
        }
        for (const auto& [dk, d] : want.dests)
            if (!have.dests.contains(dk)) ops.push_back(Op{Op::Kind::AddDest, want.service, d});
    }
    ops.insert(ops.end(), adds.begin(), adds.end());
    return ops;
}

bool applyOp(TableState& t, const Op& op, int* err) {
    auto fail = [&](int e) {
        if (err) *err = e;
        return false;
    };
    auto it = t.services.find(op.service.key);
    switch (op.kind) {
    case Op::Kind::AddService:
        if (it != t.services.end()) return fail(EEXIST);
        t.services[op.service.key] = ServiceEntry{op.service, {}};
        return true;
    case Op::Kind::EditService:
        if (it == t.services.end()) return fail(ESRCH);
        it->second.service = op.service;
        return true;
    case Op::Kind::DelService:
        if (it == t.services.end()) return fail(ESRCH);
        t.services.erase(it);
        return true;
    case Op::Kind::AddDest:
        if (it == t.services.end()) return fail(ESRCH);
        if (it->second.dests.contains(op.dest.key)) return fail(EEXIST);
        it->second.dests[op.dest.key] = op.dest;
        return true;
    case Op::Kind::EditDest: {
        if (it == t.services.end()) return fail(ESRCH);
        auto d = it->second.dests.find(op.dest.key);
        if (d == it->second.dests.end()) return fail(ENOENT);
        d->second = op.dest;
        return true;
    }
    case Op::Kind::DelDest: {
        if (it == t.services.end()) return fail(ESRCH);
        if (it->second.dests.erase(op.dest.key) == 0) return fail(ENOENT);
        return true;
    }
    }
    return fail(EINVAL);
}

}  // namespace kmod
