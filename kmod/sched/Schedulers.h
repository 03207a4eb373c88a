// The scheduler implementations (see Scheduler.h); one family per file.
#pragma once
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "kmod/sched/Scheduler.h"

namespace kmod::sched {

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

// mh (ip_vs_mh.c): Maglev hashing over a lookup table of the kernel's default size (a prime, 4093),
// with the kernel's fixed hsiphash keys, so the same destinations give the same table.
class Maglev : public Scheduler {
public:
    static constexpr std::uint32_t kTableSize = 4093;  // primes[CONFIG_IP_VS_MH_TAB_INDEX(12) - 8]
    explicit Maglev(std::uint32_t flags) : flags_(flags), lookup_(kTableSize, -1) {}
    void update(const std::vector<SchedDest>& dests) override;
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;
    const std::vector<int>& table() const { return lookup_; }

private:
    std::uint32_t flags_;
    std::vector<int> lookup_;  // index into dests, -1: none
};

// The kernel's 64-bit hsiphash (SipHash-1-3) of one u32, as ip_vs_mh_hashkey() calls it.
std::uint32_t hsiphash32(std::uint32_t value, std::uint64_t k0, std::uint64_t k1);

// lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c): a cache from the packet's destination address to a
// destination (lblc) or a set of them (lblcr), refilled by weighted least-connection when the cached
// one is overloaded by the kernel's measure. Entries expire as the kernel's do (6 minutes when the
// table is over its size, 24 hours otherwise; lblcr sets shrink after 24 hours without change).
class Locality : public Scheduler {
public:
    using Clock = std::chrono::steady_clock;
    enum class Kind { Lblc, Lblcr };
    explicit Locality(Kind k, std::function<Clock::time_point()> now = Clock::now) : kind_(k), now_(std::move(now)) {}
    void update(const std::vector<SchedDest>& dests) override;
    std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) override;
    size_t entries() const { return cache_.size(); }

    static constexpr std::chrono::seconds kExpiration{24 * 60 * 60};  // sysctl lblc(r)_expiration
    static constexpr std::chrono::seconds kEntryTimeout{6 * 60};
    static constexpr std::chrono::seconds kCheckInterval{60};
    static constexpr size_t kMaxSize = 1024 * 16;  // IP_VS_LBLC_TAB_SIZE * 16

private:
    using DestId = std::pair<base::IpAddress, std::uint16_t>;
    struct Entry {
        std::vector<DestId> set;  // lblc: exactly one; lblcr: newest first
        Clock::time_point lastUse;
        Clock::time_point lastMod;
    };
    std::optional<size_t> indexOf(const DestId& id) const;
    std::optional<size_t> leastLoaded(const std::vector<SchedDest>& dests) const;
    bool overloaded(const std::vector<SchedDest>& dests, size_t i) const;
    void expire(Clock::time_point now);

    Kind kind_;
    std::function<Clock::time_point()> now_;
    std::map<base::IpAddress, Entry> cache_;
    std::map<DestId, size_t> index_;
    Clock::time_point nextCheck_{};
    int counter_ = 1;
};

// The kernel's hash_32(): multiply by the golden ratio, keep the top `bits`.
inline std::uint32_t hash32(std::uint32_t v, unsigned bits) { return (v * 0x61C88647u) >> (32 - bits); }
// IPv4 address in host order, or the XOR of an IPv6 address's four words (as the kernel folds it).
std::uint32_t foldAddress(const base::IpAddress& a);

}  // namespace kmod::sched
