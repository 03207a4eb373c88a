// InMemoryIpvsTable: an IpvsTable that keeps the table in memory with the kernel's rules (EEXIST,
// ESRCH, ENOENT, unknown scheduler). It forwards nothing. It records every op it is given (the op
// log) and can be told to refuse ops, so the director's logic is testable without a kernel; it is also
// the director's dry-run plane (data_plane = "memory").
#pragma once
#include <functional>

#include "kmod/IpvsTable.h"

namespace kmod::memory {

class InMemoryIpvsTable : public IpvsTable {
public:
    // Returns a non-zero error to make the table refuse `op` as the kernel would.
    using FailureInjector = std::function<std::error_code(const Op& op)>;

    std::string name() const override { return "memory"; }
    base::Result<TableState> dump() override;
    base::Result<TableStatus> status() override;  // all zero: nothing is forwarded
    ApplyResult apply(const std::vector<Op>& ops) override;
    std::error_code flush() override;
    base::Result<Timeouts> timeouts() override { return timeouts_; }
    std::error_code setTimeouts(const Timeouts& t) override;
    // What tests put there: this table forwards nothing.
    base::Result<std::vector<ConnEntry>> connections() override { return conns_; }
    std::error_code zero(const std::optional<ServiceKey>& only) override {
        return only && !state_.services.contains(*only) ? base::errnoCode(ESRCH) : std::error_code{};
    }
    std::vector<ConnEntry> conns_;

    // Test hooks.
    void injectFailures(FailureInjector f) { injector_ = std::move(f); }
    void failDump(std::error_code ec) { dumpError_ = ec; }
    const std::vector<Op>& opLog() const { return opLog_; }
    void clearOpLog() { opLog_.clear(); }
    // Changes the table behind the director's back (like an operator running ipvsadm).
    TableState& state() { return state_; }

private:
    TableState state_;
    Timeouts timeouts_;
    std::vector<Op> opLog_;
    FailureInjector injector_;
    std::error_code dumpError_;
};

bool isKnownScheduler(const std::string& name);

}  // namespace kmod::memory
