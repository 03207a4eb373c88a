#include "kmod/Stats.h"

namespace kmod {

namespace {
// e += (rate - e) / 4, with rate = delta << shift (the kernel's fixed point)
void update(std::int64_t& e, std::uint64_t now, std::uint64_t last, int shift) {
    const std::int64_t rate = static_cast<std::int64_t>((now - last) << shift);
    e += (rate - e) >> 2;
}
}  // namespace

// The estimator starts with the destination, from zero totals, as the kernel's does.
void RateEstimator::tick(const StatsCounters& now) {
    update(cps_, now.conns, last_.conns, 9);
    update(inpps_, now.inpkts, last_.inpkts, 9);
    update(outpps_, now.outpkts, last_.outpkts, 9);
    update(inbps_, now.inbytes, last_.inbytes, 4);
    update(outbps_, now.outbytes, last_.outbytes, 4);
    last_ = now;
}

StatsRates RateEstimator::read() const {
    auto scaled = [](std::int64_t v, int shift, std::int64_t round) {
        return v <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>((v + round) >> shift);
    };
    // per 2 s << 9 is per second << 10; per 2 s << 4 is per second << 5
    return StatsRates{scaled(cps_, 10, 0x1FF), scaled(inpps_, 10, 0x1FF), scaled(outpps_, 10, 0x1FF),
                      scaled(inbps_, 5, 0xF), scaled(outbps_, 5, 0xF)};
}

}  // namespace kmod
