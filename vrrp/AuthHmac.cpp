#include "vrrp/AuthHmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace vrrp::hmac {

namespace {

void putBe(std::uint8_t* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint64_t getBe(const std::uint8_t* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    return v;
}

// The 16-byte MAC over the pseudo-header, the message (checksum as zero) and the trailer's first 12
// bytes followed by 16 zeros.
std::array<std::uint8_t, 16> mac(std::span<const std::uint8_t> msg, const base::IpAddress& src, int version,
                                 std::uint8_t vrid, std::span<const std::uint8_t> head12, const Key& key) {
    std::vector<std::uint8_t> in;
    in.reserve(20 + msg.size() + kTrailerLen);
    in.push_back(src.isV4() ? 4 : 6);
    in.push_back(static_cast<std::uint8_t>(version));
    in.push_back(vrid);
    in.push_back(0);
    const auto& addr = src.bytes();
    const size_t alen = src.isV4() ? 4 : 16;
    in.insert(in.end(), addr.begin(), addr.begin() + static_cast<std::ptrdiff_t>(alen));
    in.resize(20, 0);  // IPv4: 12 zeros after the address
    for (size_t i = 0; i < msg.size(); ++i) in.push_back(i == 6 || i == 7 ? 0 : msg[i]);  // the checksum as zero
    for (size_t i = 0; i < 12; ++i) in.push_back(i < head12.size() ? head12[i] : 0);
    in.resize(in.size() + 16, 0);
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
    unsigned len = 0;
    std::array<std::uint8_t, 16> out{};
    if (HMAC(EVP_sha256(), key.bytes.data(), static_cast<int>(key.bytes.size()), in.data(), in.size(), md.data(),
             &len) &&
        len >= out.size())
        std::memcpy(out.data(), md.data(), out.size());
    return out;
}

}  // namespace

std::uint64_t clockSequence(std::chrono::system_clock::time_point t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    const auto sec = static_cast<std::uint64_t>(ns / 1000000000) & 0xffffffffu;
    const auto frac = static_cast<std::uint64_t>(ns % 1000000000);
    const std::uint64_t subsec = (frac << 16) / 1000000000;
    return (sec << 32) | (subsec << 16);
}

std::uint64_t Sequence::next(std::chrono::system_clock::time_point now, bool timeMode, std::uint32_t window) {
    const std::uint64_t clock = clockSequence(now);
    // the clock stepped back further than the window: what we send now would be stale to a peer
    if (timeMode && last_ > clock && static_cast<std::int64_t>((last_ >> 32) - (clock >> 32)) > window) last_ = 0;
    last_ = clock > last_ ? clock : last_ + 1;
    return last_;
}

std::array<std::uint8_t, kTrailerLen> seal(std::span<const std::uint8_t> msg, const base::IpAddress& src, int version,
                                           std::uint8_t vrid, const Key& key, std::uint64_t sequence) {
    std::array<std::uint8_t, kTrailerLen> t{};
    t[0] = kExtType;
    t[1] = static_cast<std::uint8_t>(key.id);
    putBe(t.data() + 4, sequence, 8);  // seconds, 1/65536 s, counter
    const auto m = mac(msg, src, version, vrid, std::span<const std::uint8_t>(t.data(), 12), key);
    std::memcpy(t.data() + 12, m.data(), m.size());
    return t;
}

std::optional<std::uint64_t> ReplayState::last(const base::IpAddress& src) const {
    auto it = entries_.find(src);
    if (it == entries_.end()) return std::nullopt;
    return it->second.sequence;
}

void ReplayState::accept(const base::IpAddress& src, std::uint64_t sequence, std::uint64_t heardAt) {
    auto it = entries_.find(src);
    if (it == entries_.end() && entries_.size() >= capacity_) {
        auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
            return a.second.heardAt < b.second.heardAt;
        });
        entries_.erase(oldest);
    }
    entries_[src] = Entry{sequence, heardAt};
}

void ReplayState::forgetOlderThan(std::int64_t nowSeconds, std::uint32_t window) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const std::int64_t sec = static_cast<std::int64_t>(it->second.sequence >> 32);
        const auto age = static_cast<std::int32_t>(static_cast<std::uint32_t>(nowSeconds) - static_cast<std::uint32_t>(sec));
        it = age > static_cast<std::int64_t>(window) ? entries_.erase(it) : std::next(it);
    }
}

Checked check(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> trailer, const base::IpAddress& src,
              int version, std::uint8_t vrid, const std::vector<Key>& keys, bool timeMode, std::uint32_t window,
              std::int64_t nowSeconds, const ReplayState& replay) {
    Checked c;
    if (trailer.size() != kTrailerLen || trailer[0] != kExtType || trailer[2] != 0 || trailer[3] != 0) {
        c.verdict = Verdict::Malformed;
        return c;
    }
    c.sequence = getBe(trailer.data() + 4, 8);
    const auto sec = static_cast<std::uint32_t>(c.sequence >> 32);
    c.skew = static_cast<std::int32_t>(sec - static_cast<std::uint32_t>(nowSeconds));
    if (timeMode && (c.skew > static_cast<std::int64_t>(window) || -c.skew > static_cast<std::int64_t>(window))) {
        c.verdict = Verdict::Stale;
        return c;
    }
    const Key* key = nullptr;
    for (const auto& k : keys)
        if (k.id == trailer[1]) key = &k;
    if (!key) {
        c.verdict = Verdict::UnknownKey;
        return c;
    }
    const auto want = mac(msg, src, version, vrid, trailer.first(12), *key);
    if (CRYPTO_memcmp(want.data(), trailer.data() + 12, want.size()) != 0) {
        c.verdict = Verdict::BadHmac;
        return c;
    }
    if (auto last = replay.last(src); last && static_cast<std::int64_t>(c.sequence - *last) <= 0) {
        c.verdict = Verdict::Replay;
        return c;
    }
    return c;
}

}  // namespace vrrp::hmac
