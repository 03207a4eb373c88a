#include "conf/Hex.h"

namespace conf {
namespace {

constexpr int kBad = -1, kWild = -2;

int nibble(char c, bool wildcards) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (wildcards && (c == 'x' || c == 'X')) return kWild;
    return kBad;
}

}  // namespace

std::optional<HexBytes> parseHex(std::string_view text, bool wildcards) {
    HexBytes out;
    std::string mask;
    bool masked = false;
    size_t i = 0;
    while (true) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i == text.size()) break;
        int hi = nibble(text[i++], wildcards);
        if (hi == kBad) return std::nullopt;
        int m = hi == kWild ? 0x0f : 0;
        int value = hi == kWild ? 0 : hi;
        if (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            const int lo = nibble(text[i++], wildcards);
            if (lo == kBad) return std::nullopt;
            value = (value << 4) | (lo == kWild ? 0 : lo);
            m = (m << 4) | (lo == kWild ? 0x0f : 0);
        }
        masked |= m != 0;
        out.bytes.push_back(static_cast<char>(value));
        mask.push_back(static_cast<char>(m));
    }
    if (out.bytes.empty()) return std::nullopt;
    if (masked) out.mask = std::move(mask);
    return out;
}

std::string hexText(const std::string& bytes, const std::string& mask) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        const auto m = i < mask.size() ? static_cast<unsigned char>(mask[i]) : 0;
        if (i) out += ' ';
        out += (m & 0xf0) ? 'X' : kDigits[b >> 4];
        out += (m & 0x0f) ? 'X' : kDigits[b & 0x0f];
    }
    return out;
}

}  // namespace conf
