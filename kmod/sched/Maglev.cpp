// mh (ip_vs_mh.c): each destination walks its own permutation of the lookup table (offset and
// skip from two hsiphash keys of its address and port) and claims, in list order and as many times
// in a row as its scaled weight, the next slot nobody holds, until every slot is held.
#include <bit>
#include <numeric>

#include "kmod/Model.h"
#include "kmod/sched/Schedulers.h"

namespace kmod::sched {

namespace {

constexpr std::uint64_t rol(std::uint64_t w, int s) { return (w << s) | (w >> (64 - s)); }

struct SipState {
    std::uint64_t v0 = 0x736f6d6570736575ULL, v1 = 0x646f72616e646f6dULL, v2 = 0x6c7967656e657261ULL,
                  v3 = 0x7465646279746573ULL;
    void round() {
        v0 += v1;
        v1 = rol(v1, 13);
        v1 ^= v0;
        v0 = rol(v0, 32);
        v2 += v3;
        v3 = rol(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rol(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rol(v1, 17);
        v1 ^= v2;
        v2 = rol(v2, 32);
    }
};

// ip_vs_mh's generate_hash_secret(): fixed keys, the same on every host.
constexpr std::uint64_t kHash1 = 2654435761ULL;
constexpr std::uint64_t kHash2 = 2654446892ULL;
constexpr unsigned kTabBits = 12 / 2;  // IP_VS_MH_TAB_BITS

std::uint32_t hashKey(const base::IpAddress& addr, std::uint16_t port, std::uint64_t key, std::uint32_t offset) {
    return hsiphash32(offset + port + foldAddress(addr), key, key);
}

}  // namespace

std::uint32_t hsiphash32(std::uint32_t value, std::uint64_t k0, std::uint64_t k1) {
    SipState s;
    s.v3 ^= k1;
    s.v2 ^= k0;
    s.v1 ^= k1;
    s.v0 ^= k0;
    const std::uint64_t b = (std::uint64_t{4} << 56) | value;  // four bytes, little-endian
    s.v3 ^= b;
    s.round();
    s.v0 ^= b;
    s.v2 ^= 0xff;
    s.round();
    s.round();
    s.round();
    return static_cast<std::uint32_t>((s.v0 ^ s.v1) ^ (s.v2 ^ s.v3));
}

void Maglev::update(const std::vector<SchedDest>& dests) {
    int gcd = 0, maxWeight = 0;
    for (const auto& d : dests) {
        const int w = d.lastNonZeroWeight();
        if (w > 0) gcd = gcd > 0 ? std::gcd(w, gcd) : w;
        maxWeight = std::max(maxWeight, w);
    }
    std::fill(lookup_.begin(), lookup_.end(), -1);
    if (gcd < 1) return;
    const int shift = std::max(
        0, static_cast<int>(std::bit_width(static_cast<unsigned>(maxWeight / gcd))) - static_cast<int>(kTabBits));

    struct Setup {
        std::uint32_t skip, perm;
        int turns;
    };
    std::vector<Setup> setup;
    setup.reserve(dests.size());
    for (const auto& d : dests) {
        const std::uint32_t offset = hashKey(d.address, d.port, kHash1, 0) % kTableSize;
        const std::uint32_t skip = hashKey(d.address, d.port, kHash2, 0) % (kTableSize - 1) + 1;
        const int lw = d.lastNonZeroWeight();
        const int scaled = (lw / gcd) >> shift;
        setup.push_back(Setup{skip, offset, scaled ? scaled : (lw != 0 ? 1 : 0)});
    }
    std::vector<bool> taken(kTableSize, false);
    std::uint32_t filled = 0;
    while (filled < kTableSize) {
        int run = 0;
        for (size_t i = 0; i < dests.size() && filled < kTableSize;) {
            Setup& s = setup[i];
            if (s.turns < 1) {
                ++i;
                continue;
            }
            while (taken[s.perm]) {
                s.perm += s.skip;
                if (s.perm >= kTableSize) s.perm -= kTableSize;
            }
            taken[s.perm] = true;
            lookup_[s.perm] = static_cast<int>(i);
            ++filled;
            if (++run >= s.turns) {
                run = 0;
                ++i;
            }
        }
    }
}

std::optional<size_t> Maglev::pick(const std::vector<SchedDest>& dests, const SchedPacket& p) {
    const std::uint16_t port = (flags_ & kSvcSched2) ? p.sourcePort : 0;
    auto slot = [&](std::uint32_t offset) { return hashKey(p.source, port, kHash1, offset) % kTableSize; };
    auto at = [&](std::uint32_t s) -> std::optional<size_t> {
        const int i = lookup_[s];
        if (i < 0 || static_cast<size_t>(i) >= dests.size()) return std::nullopt;
        return static_cast<size_t>(i);
    };
    const std::uint32_t ihash = slot(0);
    const auto first = at(ihash);
    if (!first) return std::nullopt;
    if (dests[*first].available()) return first;
    if (!(flags_ & kSvcSched1)) return std::nullopt;
    // fallback: walk the table from the first slot with the offset folded into the hash
    for (std::uint32_t offset = 0; offset < kTableSize; ++offset) {
        const auto d = at(slot((offset + ihash) % kTableSize));
        if (!d) break;
        if (dests[*d].available()) return d;
    }
    return std::nullopt;
}

}  // namespace kmod::sched
