#include <catch2/catch.hpp>

#include "director/snmp/MibTree.h"

using snmp::MibTree;
using snmp::Oid;
using snmp::Value;

TEST_CASE("MibTree: GET is exact, GETNEXT walks in SNMP order and stays under its root") {
    MibTree t;
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 2, 0}, Value::string("lb1"));
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 1, 0}, Value::string("directord"));
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 3, 1, 10, 1}, Value::integer32(1));
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 3, 1, 2, 1}, Value::integer32(2));
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 3, 1, 2, 10}, Value::integer32(2));
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 3, 1, 2, 2}, Value::integer32(1));
    const Oid root{1, 3, 6, 1, 4, 1, 9586, 100, 5};

    REQUIRE(t.get({1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 2, 0}));
    CHECK(t.get({1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 2, 0})->bytes == "lb1");
    CHECK_FALSE(t.get({1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 2}));  // the column, not the instance

    // a walk from the root: numeric order of sub-identifiers (2.2 before 2.10, 2.x before 10.x)
    std::vector<std::string> walk;
    Oid at = root;
    while (auto n = t.next(at, root)) {
        walk.push_back(snmp::oidText(n->first));
        at = n->first;
    }
    CHECK(walk == std::vector<std::string>{
                      "1.3.6.1.4.1.9586.100.5.1.1.0", "1.3.6.1.4.1.9586.100.5.1.2.0",
                      "1.3.6.1.4.1.9586.100.5.3.3.1.2.1", "1.3.6.1.4.1.9586.100.5.3.3.1.2.2",
                      "1.3.6.1.4.1.9586.100.5.3.3.1.2.10", "1.3.6.1.4.1.9586.100.5.3.3.1.10.1"});
    // from before the root, and from a prefix of nothing
    CHECK(snmp::oidText(t.next({1, 3, 6}, root)->first) == "1.3.6.1.4.1.9586.100.5.1.1.0");
    CHECK(snmp::oidText(t.next({1, 3, 6, 1, 4, 1, 9586, 100, 5, 2}, root)->first) == "1.3.6.1.4.1.9586.100.5.3.3.1.2.1");
    // nothing after the last one under this root, though the map may hold more elsewhere
    t.set({1, 3, 6, 1, 4, 1, 9586, 100, 6}, Value::integer32(0));
    CHECK_FALSE(t.next({1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 3, 1, 10, 1}, root));
}

TEST_CASE("MibTree values: counters wrap, gauges saturate, addresses are 4 or 16 bytes") {
    CHECK(Value::counter32(0x1'0000'0005ull).number == 5);
    CHECK(Value::gauge32(0x1'0000'0005ull).number == 0xffffffffu);
    CHECK(Value::counter64(0x1'0000'0005ull).number == 0x1'0000'0005ull);
    CHECK(Value::address(*base::IpAddress::parse("10.1.2.3")).bytes == std::string("\x0a\x01\x02\x03", 4));
    CHECK(Value::address(*base::IpAddress::parse("2001:db8::1")).bytes.size() == 16);
}
