// Hex strings as keepalived's read_hex_str reads them (UDP_CHECK payload and require_reply).
#include <catch2/catch.hpp>

#include "conf/Hex.h"

using conf::hexText;
using conf::parseHex;

TEST_CASE("hex: octets with and without spaces, a lone digit is an octet") {
    CHECK(parseHex("01 0a ff", false)->bytes == std::string("\x01\x0a\xff", 3));
    CHECK(parseHex("010aff", false)->bytes == std::string("\x01\x0a\xff", 3));
    CHECK(parseHex("1 ab", false)->bytes == std::string("\x01\xab", 2));
    CHECK(parseHex("abc", false)->bytes == std::string("\xab\x0c", 2));
    CHECK(parseHex("\tAB\t cd ", false)->bytes == std::string("\xab\xcd", 2));
    CHECK(parseHex("00", false)->bytes == std::string(1, '\0'));
    CHECK(parseHex("ab", false)->mask.empty());
}

TEST_CASE("hex: X wildcards only where allowed, with their mask nibbles") {
    CHECK_FALSE(parseHex("aX", false));
    const auto h = parseHex("aX Xb xx 12", true);
    REQUIRE(h);
    CHECK(h->bytes == std::string("\xa0\x0b\x00\x12", 4));
    CHECK(h->mask == std::string("\x0f\xf0\xff\x00", 4));
    CHECK(hexText(h->bytes, h->mask) == "aX Xb XX 12");
}

TEST_CASE("hex: empty or other characters are no value") {
    CHECK_FALSE(parseHex("", false));
    CHECK_FALSE(parseHex("   ", true));
    CHECK_FALSE(parseHex("0g", false));
    CHECK_FALSE(parseHex("0x12", false));  // 'x' is a wildcard only in replies: "0x" is not hex here
    CHECK(hexText(std::string("\xde\xad", 2)) == "de ad");
}
