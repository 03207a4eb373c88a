// Budget: the userspace plane's file descriptors, shared by every forwarding thread. A UDP flow
// costs one (its socket towards the real server), a TCP connection up to six (two sockets, two
// pipes for splice). Limits, globally and per client prefix (an IPv4 address, an IPv6 /64 by
// default: one host rotating addresses in its /64 is one source), keep a flood of one kind
// (spoofed UDP sources, half-open or slow TCP clients) from taking the descriptors the rest
// needs; past three quarters of a limit, only a prefix that holds nothing gets one, so a flood
// from many sources leaves the last quarter to new clients. At a limit new flows or connections are refused and counted, nothing else is
// affected, and the first refusal of each kind is logged with what to do. Unset limits come from
// RLIMIT_NOFILE.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "base/IpAddress.h"
#include "kmod/IpvsTable.h"
#include "kmod/userspace/PlaneTable.h"

namespace kmod::userspace {

class Budget {
public:
    // Resolves the zeros of `l` against the descriptor limit (see ForwardingLimits).
    void configure(const ForwardingLimits& l);
    bool takeUdp(const base::IpAddress& source);
    void giveUdp(const base::IpAddress& source);
    bool takeTcp(const base::IpAddress& source);
    void giveTcp(const base::IpAddress& source);
    std::uint32_t unansweredTimeout() const { return unanswered_.load(std::memory_order_relaxed); }
    std::uint32_t progressTimeout() const { return progress_.load(std::memory_order_relaxed); }
    // Past three quarters of the TCP limit: idle connections then go after the progress timeout.
    bool tcpCrowded() const {
        return tcp_.used.load(std::memory_order_relaxed) * 4 >= tcpLimit_.load(std::memory_order_relaxed) * 3;
    }
    ForwardingCounters counters() const;

private:
    struct Kind {
        std::atomic<std::uint64_t> used{0}, refused{0};
        std::uint64_t limit = 0, perSource = 0;
        std::map<base::IpAddress, std::uint32_t> bySource;
        std::atomic<bool> said{false};
    };
    bool take(Kind& k, const base::IpAddress& source, const char* what);
    void give(Kind& k, const base::IpAddress& source);
    mutable std::mutex mutex_;
    Kind udp_, tcp_;
    std::atomic<std::uint32_t> unanswered_{10}, progress_{60};
    std::atomic<std::uint64_t> tcpLimit_{~std::uint64_t{0} / 8};  // tcp_.limit, for tcpCrowded() without the lock
    int prefixV4_ = 32, prefixV6_ = 64;  // under mutex_
};

// One flow's or connection's share, given back when the last holder lets go.
struct BudgetHold {
    BudgetHold(std::shared_ptr<Budget> b, base::IpAddress s, bool isTcp)
        : budget(std::move(b)), source(s), tcp(isTcp) {}
    ~BudgetHold() { tcp ? budget->giveTcp(source) : budget->giveUdp(source); }
    BudgetHold(const BudgetHold&) = delete;
    BudgetHold& operator=(const BudgetHold&) = delete;
    std::shared_ptr<Budget> budget;
    base::IpAddress source;
    bool tcp;
};

}  // namespace kmod::userspace
