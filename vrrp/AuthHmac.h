// keepalived 2.4's auth_hmac (VRRP HMAC-SHA256-128 authentication extension) as pure functions: a
// 28-byte trailer after the VRRP message (v2: after its 8 bytes of authentication data), v2 and v3,
// IPv4 and IPv6, unicast and multicast:
//   +0  ext type 1 (HMAC-SHA256-128)   +1  key id   +2..3  reserved, 0
//   +4  seconds (u32)   +8  1/65536ths of a second (u16)   +10  counter (u16)   (big-endian; together
//       the 64-bit sequence number)
//   +12 the first 16 bytes of HMAC-SHA256(key, pseudo-header | message with its checksum as zero |
//       trailer bytes 0..11 | 16 zero bytes)
// The pseudo-header is 20 bytes: 4 or 6, the VRRP version, the VRID, 0, the source address (IPv4:
// its 4 bytes then 12 zeros). The IPv4 VRRP checksum covers the message only; the IPv6 one (a
// transport checksum) covers the trailer too. keepalived's vrrp_auth_hmac.c; the vectors of its
// test/auth_hmac_test.c are in tests/unit/vrrp/AuthHmacTest.cpp.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "base/IpAddress.h"

namespace vrrp::hmac {

inline constexpr size_t kTrailerLen = 28;
inline constexpr std::uint8_t kExtType = 1;  // HMAC-SHA256-128

struct Key {
    int id = 0;
    std::vector<std::uint8_t> bytes;
};

// The sequence number a clock reading gives: seconds << 32 | 1/65536 s << 16 (counter 0).
std::uint64_t clockSequence(std::chrono::system_clock::time_point t);

// The sender's sequence: the clock's, or one above the last when the clock has not moved past it.
// In time mode a last value more than `window` seconds ahead of the clock (the clock stepped back)
// starts again from the clock, as keepalived does.
class Sequence {
public:
    std::uint64_t next(std::chrono::system_clock::time_point now, bool timeMode, std::uint32_t window);

private:
    std::uint64_t last_ = 0;
};

// The trailer for `msg` (the VRRP message as sent; its checksum bytes are taken as zero).
std::array<std::uint8_t, kTrailerLen> seal(std::span<const std::uint8_t> msg, const base::IpAddress& src, int version,
                                           std::uint8_t vrid, const Key& key, std::uint64_t sequence);

enum class Verdict { Ok, Malformed, Stale, UnknownKey, BadHmac, Replay };

// The last sequence accepted from each source: four sources for multicast (least recently heard
// goes), every peer for unicast (keepalived's). A source not in it accepts any sequence.
class ReplayState {
public:
    explicit ReplayState(size_t capacity = 4) : capacity_(capacity) {}
    void setCapacity(size_t n) { capacity_ = std::max<size_t>(n, 1); }
    // the last accepted from `src` (time mode: forgotten once older than the window)
    std::optional<std::uint64_t> last(const base::IpAddress& src) const;
    void accept(const base::IpAddress& src, std::uint64_t sequence, std::uint64_t heardAt);
    void forgetOlderThan(std::int64_t nowSeconds, std::uint32_t window);

private:
    struct Entry {
        std::uint64_t sequence = 0, heardAt = 0;
    };
    std::map<base::IpAddress, Entry> entries_;
    size_t capacity_;
};

struct Checked {
    Verdict verdict = Verdict::Ok;
    std::uint64_t sequence = 0;
    std::int64_t skew = 0;  // time mode: the sender's clock minus ours, seconds
};
// Checks a received trailer, in keepalived's order: framing, (time mode) the clock window, the key
// id, the MAC (constant time), then the sequence against the last one accepted from `src`.
Checked check(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> trailer, const base::IpAddress& src,
              int version, std::uint8_t vrid, const std::vector<Key>& keys, bool timeMode, std::uint32_t window,
              std::int64_t nowSeconds, const ReplayState& replay);

}  // namespace vrrp::hmac
