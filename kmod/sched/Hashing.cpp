// sh and dh (ip_vs_sh.c, ip_vs_dh.c): a table of 256 buckets filled from the destination list.
#include <arpa/inet.h>

#include "kmod/Model.h"
#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

std::uint32_t foldAddress(const base::IpAddress& a) {
    const auto& b = a.bytes();
    auto word = [&](int i) {
        return (std::uint32_t{b[static_cast<size_t>(i)]} << 24) | (std::uint32_t{b[static_cast<size_t>(i + 1)]} << 16) |
               (std::uint32_t{b[static_cast<size_t>(i + 2)]} << 8) | std::uint32_t{b[static_cast<size_t>(i + 3)]};
    };
    // The kernel XORs the four big-endian words and then converts: XOR commutes with byte order.
    return a.isV4() ? word(0) : word(0) ^ word(4) ^ word(8) ^ word(12);
}

// sh: each destination fills as many consecutive buckets as its weight (at least one), in list
// order, round and round. dh: one bucket each, round and round.
void HashScheduler::update(const std::vector<SchedDest>& dests) {
    if (dests.empty()) {
        buckets_.fill(-1);
        return;
    }
    size_t d = 0;
    int count = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        buckets_[i] = static_cast<int>(d);
        if (kind_ == Kind::Destination || ++count >= dests[d].weight) {
            d = (d + 1) % dests.size();
            count = 0;
        }
    }
}

std::optional<size_t> HashScheduler::pick(const std::vector<SchedDest>& dests, const SchedPacket& p) {
    auto at = [&](std::uint32_t bucket) -> std::optional<size_t> {
        const int i = buckets_[bucket];
        if (i < 0 || static_cast<size_t>(i) >= dests.size() || !dests[static_cast<size_t>(i)].available())
            return std::nullopt;
        return static_cast<size_t>(i);
    };
    if (kind_ == Kind::Destination) return at((foldAddress(p.destination) * 2654435761u) & (kBuckets - 1));

    const std::uint32_t port = (flags_ & kSvcSched2) ? p.sourcePort : 0;
    const std::uint32_t addr = foldAddress(p.source);
    auto key = [&](std::uint32_t offset) { return (offset + hash32(port + addr, 8)) & (kBuckets - 1); };
    const std::uint32_t ihash = key(0);
    if (auto d = at(ihash)) return d;
    if (!(flags_ & kSvcSched1)) return std::nullopt;
    // fallback: try the other buckets in a fixed order derived from the first
    for (std::uint32_t offset = 0; offset < kBuckets; ++offset) {
        const std::uint32_t roffset = (offset + ihash) % kBuckets;
        if (auto d = at(key(roffset))) return d;
    }
    return std::nullopt;
}

}  // namespace kmod::sched
