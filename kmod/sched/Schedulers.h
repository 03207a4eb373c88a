// The scheduler implementations (see Scheduler.h); one family per file.
#pragma once
#include <array>
#include <optional>
#include <random>
#include <utility>

#include "kmod/sched/Scheduler.h"

namespace kmod {

class RoundRobin : public Scheduler {
public:
    void update(const std::vector<SchedDest>& dests) override;
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;

private:
    long last_ = -1;  // index of the last pick, -1: the list head
    std::optional<std::pair<base::IpAddress, std::uint16_t>> lastKey_;
};

class WeightedRoundRobin : public Scheduler {
public:
    void update(const std::vector<SchedDest>& dests) override;
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;

private:
    long cl_ = -1;  // current list position, -1: the head
    int cw_ = 0;    // current weight
    int mw_ = 0;    // max weight - (gcd - 1)
    int di_ = 1;    // gcd of the weights
};

// lc, wlc, sed, nq: the least loaded destination by the kernel's measure of each.
class LeastConnection : public Scheduler {
public:
    enum class Kind { Lc, Wlc, Sed, Nq };
    explicit LeastConnection(Kind k) : kind_(k) {}
    void update(const std::vector<SchedDest>&) override {}
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;

private:
    Kind kind_;
};

// sh (source hashing) and dh (destination hashing): a 256-bucket table of destinations.
class HashScheduler : public Scheduler {
public:
    enum class Kind { Source, Destination };
    HashScheduler(Kind k, std::uint32_t flags) : kind_(k), flags_(flags) {}
    void update(const std::vector<SchedDest>& dests) override;
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;
    static constexpr size_t kBuckets = 256;
    const std::array<int, kBuckets>& buckets() const { return buckets_; }

private:
    Kind kind_;
    std::uint32_t flags_;
    std::array<int, kBuckets> buckets_{};  // index into dests, -1: none
};

// fo (weighted failover) and ovf (weighted overflow).
class Failover : public Scheduler {
public:
    explicit Failover(bool overflow) : overflow_(overflow) {}
    void update(const std::vector<SchedDest>&) override {}
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;

private:
    bool overflow_;
};

// twos: the power of two weighted random choices, the less loaded of the two.
class TwoChoices : public Scheduler {
public:
    explicit TwoChoices(std::uint32_t seed) : rng_(seed) {}
    void update(const std::vector<SchedDest>&) override {}
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;

private:
    std::mt19937 rng_;
};

// The kernel's hash_32(): multiply by the golden ratio, keep the top `bits`.
inline std::uint32_t hash32(std::uint32_t v, unsigned bits) { return (v * 0x61C88647u) >> (32 - bits); }
// IPv4 address in host order, or the XOR of an IPv6 address's four words (as the kernel folds it).
std::uint32_t foldAddress(const base::IpAddress& a);

}  // namespace kmod
