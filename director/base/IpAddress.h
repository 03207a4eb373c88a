// IpAddress: an IPv4 or IPv6 address as a value (family + 16 bytes, IPv4 in the first 4), ordered
// and hashable, so the config, the IPVS model and the wire codecs share one type.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace base {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
public:
    IpAddress() = default;
    static IpAddress v4(std::uint32_t hostOrder);
    static IpAddress fromBytes(Family f, const std::uint8_t* bytes);
    // Parses dotted quad or RFC 4291 text; nullopt on anything else.
    static std::optional<IpAddress> parse(std::string_view text);

    Family family() const { return family_; }
    bool isV4() const { return family_ == Family::V4; }
    bool isV6() const { return family_ == Family::V6; }
    int af() const;  // AF_INET / AF_INET6
    const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
    std::uint32_t v4HostOrder() const;
    bool isMulticast() const;
    int maxPrefix() const { return isV4() ? 32 : 128; }
    // The address with all bits past `prefix` cleared.
    IpAddress masked(int prefix) const;
    std::string str() const;

    // Family first, then the bytes in order (as a defaulted comparison would), but on two 64-bit
    // words instead of a memcmp call: maps keyed by addresses sit on every reload's path.
    std::strong_ordering operator<=>(const IpAddress& o) const {
        if (auto c = family_ <=> o.family_; c != 0) return c;
        if (auto c = word(0) <=> o.word(0); c != 0) return c;
        return word(1) <=> o.word(1);
    }
    bool operator==(const IpAddress& o) const { return family_ == o.family_ && bytes_ == o.bytes_; }

private:
    std::uint64_t word(int i) const {
        std::uint64_t w;
        std::memcpy(&w, bytes_.data() + 8 * i, 8);
        return __builtin_bswap64(w);  // big-endian: numeric order is byte order
    }
    Family family_ = Family::V4;
    std::array<std::uint8_t, 16> bytes_{};
};

// "addr" or "addr/prefix"; prefix defaults to the address's full length.
struct IpPrefix {
    IpAddress address;
    int prefix = 32;
    static std::optional<IpPrefix> parse(std::string_view text);
    std::string str() const;
    auto operator<=>(const IpPrefix&) const = default;
    bool operator==(const IpPrefix&) const = default;
};

// "a.b.c.d:port" or "[v6]:port".
struct SocketAddress {
    IpAddress address;
    std::uint16_t port = 0;
    static std::optional<SocketAddress> parse(std::string_view text);
    std::string str() const;
    auto operator<=>(const SocketAddress&) const = default;
    bool operator==(const SocketAddress&) const = default;
};

}  // namespace base
