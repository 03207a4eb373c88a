// Traffic counters and rates of services and destinations, as IPVS keeps them: totals (conns,
// packets and bytes in and out) and rates from the kernel's estimator (ip_vs_est.c: every 2 s an
// exponentially weighted average with weight 1/4, in the same fixed point, so `ipvsctl --rate`
// shows the same numbers for either plane).
#pragma once
#include <cstdint>
#include <map>

#include "kmod/Model.h"

namespace kmod {

struct StatsCounters {
    std::uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
    StatsCounters& operator+=(const StatsCounters& o) {
        conns += o.conns;
        inpkts += o.inpkts;
        outpkts += o.outpkts;
        inbytes += o.inbytes;
        outbytes += o.outbytes;
        return *this;
    }
    bool operator==(const StatsCounters&) const = default;
};

struct StatsRates {
    std::uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;  // per second
    StatsRates& operator+=(const StatsRates& o) {
        cps += o.cps;
        inpps += o.inpps;
        outpps += o.outpps;
        inbps += o.inbps;
        outbps += o.outbps;
        return *this;
    }
    bool operator==(const StatsRates&) const = default;
};

// The kernel's rate estimator. tick() every 2 seconds with the current totals.
class RateEstimator {
public:
    static constexpr int kIntervalSeconds = 2;
    void tick(const StatsCounters& now);
    StatsRates read() const;

private:
    StatsCounters last_;
    std::int64_t cps_ = 0, inpps_ = 0, outpps_ = 0, inbps_ = 0, outbps_ = 0;  // scaled as in the kernel
};

struct DestStatus {
    std::uint32_t activeConns = 0, inactConns = 0, persistConns = 0;
    StatsCounters stats;
    StatsRates rates;
};

struct ServiceStatus {
    StatsCounters stats;
    StatsRates rates;
    std::map<DestKey, DestStatus> dests;
};

using TableStatus = std::map<ServiceKey, ServiceStatus>;

}  // namespace kmod
