#include <catch2/catch.hpp>

#include "base/IpAddress.h"

using base::IpAddress;

TEST_CASE("IpAddress parses and prints both families") {
    auto a = IpAddress::parse("10.1.2.3");
    REQUIRE(a);
    CHECK(a->isV4());
    CHECK(a->str() == "10.1.2.3");
    CHECK(a->v4HostOrder() == 0x0a010203u);
    auto b = IpAddress::parse("2001:DB8::1");
    REQUIRE(b);
    CHECK(b->isV6());
    CHECK(b->str() == "2001:db8::1");
    CHECK_FALSE(IpAddress::parse("10.0.0.256"));
    CHECK_FALSE(IpAddress::parse(""));
    CHECK_FALSE(IpAddress::parse("host.example"));
    CHECK_FALSE(IpAddress::parse("1::2::3"));
    CHECK(IpAddress::parse("224.0.0.18")->isMulticast());
    CHECK(IpAddress::parse("ff02::12")->isMulticast());
    CHECK_FALSE(IpAddress::parse("10.0.0.1")->isMulticast());
    CHECK(*IpAddress::parse("10.0.0.1") < *IpAddress::parse("10.0.0.2"));
    CHECK(*IpAddress::parse("10.0.0.1") != *IpAddress::parse("::a00:1"));
}

TEST_CASE("masked clears host bits") {
    CHECK(IpAddress::parse("10.1.2.3")->masked(24).str() == "10.1.2.0");
    CHECK(IpAddress::parse("10.1.2.3")->masked(0).str() == "0.0.0.0");
    CHECK(IpAddress::parse("10.1.2.255")->masked(31).str() == "10.1.2.254");
    CHECK(IpAddress::parse("2001:db8:ffff::1")->masked(36).str() == "2001:db8:f000::");
}

TEST_CASE("IpPrefix and SocketAddress") {
    auto p = base::IpPrefix::parse("192.0.2.10/24");
    REQUIRE(p);
    CHECK(p->prefix == 24);
    CHECK(p->str() == "192.0.2.10/24");
    CHECK(base::IpPrefix::parse("192.0.2.10")->prefix == 32);
    CHECK(base::IpPrefix::parse("2001:db8::1")->prefix == 128);
    CHECK_FALSE(base::IpPrefix::parse("10.0.0.1/33"));
    CHECK_FALSE(base::IpPrefix::parse("10.0.0.1/"));
    CHECK_FALSE(base::IpPrefix::parse("10.0.0.1/2x"));
    auto s = base::SocketAddress::parse("[::1]:9380");
    REQUIRE(s);
    CHECK(s->port == 9380);
    CHECK(s->str() == "[::1]:9380");
    CHECK(base::SocketAddress::parse("127.0.0.1:80")->str() == "127.0.0.1:80");
    CHECK_FALSE(base::SocketAddress::parse("127.0.0.1"));
    CHECK_FALSE(base::SocketAddress::parse("::1:80"));
    CHECK_FALSE(base::SocketAddress::parse("127.0.0.1:65536"));
}
