#include "base/IpAddress.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace base {

IpAddress IpAddress::v4(std::uint32_t hostOrder) {
    IpAddress a;
    a.family_ = Family::V4;
    a.bytes_[0] = static_cast<std::uint8_t>(hostOrder >> 24);
    a.bytes_[1] = static_cast<std::uint8_t>(hostOrder >> 16);
    a.bytes_[2] = static_cast<std::uint8_t>(hostOrder >> 8);
    a.bytes_[3] = static_cast<std::uint8_t>(hostOrder);
    return a;
}

IpAddress IpAddress::fromBytes(Family f, const std::uint8_t* bytes) {
    IpAddress a;
    a.family_ = f;
    std::memcpy(a.bytes_.data(), bytes, f == Family::V4 ? 4 : 16);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    std::string s(text);
    IpAddress a;
    if (s.find(':') == std::string::npos) {
        if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) != 1) return std::nullopt;
        a.family_ = Family::V4;
    } else {
        if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) != 1) return std::nullopt;
        a.family_ = Family::V6;
    }
    return a;
}

int IpAddress::af() const { return isV4() ? AF_INET : AF_INET6; }

std::uint32_t IpAddress::v4HostOrder() const {
    return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) | (std::uint32_t{bytes_[2]} << 8) |
           std::uint32_t{bytes_[3]};
}

bool IpAddress::isMulticast() const { return isV4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff; }

IpAddress IpAddress::masked(int prefix) const {
    IpAddress a = *this;
    const int len = isV4() ? 4 : 16;
    for (int i = 0; i < len; ++i) {
        const int bits = prefix - i * 8;
        if (bits >= 8) continue;
        a.bytes_[static_cast<size_t>(i)] &= bits <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - bits));
    }
    return a;
}

std::string IpAddress::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(af(), bytes_.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    IpPrefix p{*addr, addr->maxPrefix()};
    if (slash != std::string_view::npos) {
        const auto num = text.substr(slash + 1);
        int v = -1;
        auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (ec != std::errc{} || ptr != num.data() + num.size() || num.empty() || v < 0 || v > addr->maxPrefix())
            return std::nullopt;
        p.prefix = v;
    }
    return p;
}

std::string IpPrefix::str() const { return address.str() + "/" + std::to_string(prefix); }

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;
    }
    auto addr = IpAddress::parse(host);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (!addr || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || v > 65535)
        return std::nullopt;
    return SocketAddress{*addr, static_cast<std::uint16_t>(v)};
}

std::string SocketAddress::str() const {
    return address.isV4() ? address.str() + ":" + std::to_string(port)
                          : "[" + address.str() + "]:" + std::to_string(port);
}

}  // namespace base
