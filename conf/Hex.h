// Hex strings as keepalived reads them (UDP_CHECK's payload and require_reply): hex digits, spaces
// and tabs between octets; two digits make an octet, one digit followed by a space or the end an
// octet of its own ("1 ab" is 01 ab, "abc" is ab 0c); with wildcards, an X nibble matches anything
// (its mask nibble is 0xf). Empty or anything else: no value.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace conf {

struct HexBytes {
    std::string bytes;
    std::string mask;  // empty when no nibble is a wildcard; else one mask octet per byte
};

std::optional<HexBytes> parseHex(std::string_view text, bool wildcards);
// Back to text: two lower-case digits per octet, X for a wildcard nibble, octets space-separated.
std::string hexText(const std::string& bytes, const std::string& mask = {});

}  // namespace conf
