#include <catch2/catch.hpp>

#include <random>

#include "conf/Dump.h"
#include "conf/Loader.h"
#include "conf/Reader.h"

TEST_CASE("an empty config is valid and takes every default") {
    conf::LoadResult r = conf::loadString("", "empty.conf");
    REQUIRE(r.ok());
    CHECK(r.config->global.dataPlane == conf::DataPlane::Auto);
    CHECK(r.config->global.flushOnStop == conf::FlushOnStop::Created);
    CHECK(r.config->virtualServers.empty());
}

TEST_CASE("defaults flow from the virtual server to its real servers") {
    conf::LoadResult r = conf::loadString(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 443; real_servers = ( { address = "10.0.0.2"; } ); } );
)",
                                          "t.conf");
    REQUIRE(r.ok());
    const auto& vs = r.config->virtualServers.at(0);
    CHECK(vs.scheduler == "wlc");
    CHECK(vs.netmaskPrefix() == 32);
    CHECK(vs.realServers.at(0).port == 443);
    CHECK(vs.realServers.at(0).weight == 1);
}

TEST_CASE("a missing file is one diagnostic, not an exception") {
    conf::LoadResult r = conf::loadFile("/nonexistent/directord.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].str() ==
          "/nonexistent/directord.conf:0: (top): cannot read the file: No such file or directory");
}

TEST_CASE("did-you-mean picks the close key only") {
    CHECK(conf::closest("wieght", {"weight", "port"}) == "weight");
    CHECK(conf::closest("zzzzzz", {"weight", "port"}) == std::nullopt);
    CHECK(conf::editDistance("kitten", "sitting") == 3);
}

TEST_CASE("large integers need libconfig's L suffix and are range-checked") {
    conf::LoadResult r = conf::loadString("virtual_servers = ( { fwmark = 4294967296L; } );", "t.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].str() == "t.conf:1: virtual_servers[0].fwmark: 4294967296 is out of range (1..4294967295)");
}

// Mutation fuzzing of the loader: whatever bytes arrive, it returns diagnostics or a config and
// never throws or crashes; whatever loads also round-trips.
TEST_CASE("mutated configs never escape the loader") {
    conf::LoadResult base = conf::loadFile(std::string(DIRECTORD_SOURCE_DIR) + "/tests/corpus/good/full.conf");
    REQUIRE(base.ok());
    const std::string text = conf::dump(*base.config);
    std::mt19937 rng(20261126);
    const std::string alphabet = "{}()[];=,\"\\.-0123456789aLxe \n:@/";
    int loaded = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string m = text;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t pos = rng() % m.size();
            switch (rng() % 3) {
            case 0: m[pos] = alphabet[rng() % alphabet.size()]; break;
            case 1: m.erase(pos, 1 + rng() % 8); break;
            default: m.insert(pos, 1, alphabet[rng() % alphabet.size()]);
            }
        }
        conf::LoadResult r;
        REQUIRE_NOTHROW(r = conf::loadString(m, "fuzz.conf", "/nonexistent"));
        if (r.ok()) {
            ++loaded;
            conf::LoadResult again = conf::loadString(conf::dump(*r.config), "again.conf");
            REQUIRE(again.ok());
            CHECK(*again.config == *r.config);
        } else {
            for (const auto& d : r.diagnostics) CHECK(d.file.size() > 0);
        }
    }
    CHECK(loaded > 0);  // some mutations (in comments, strings) still load
}

TEST_CASE("more virtual addresses than one advert carries is a config error at load") {
    auto config = [](int n, const char* family, const char* prefix) {
        std::string vips;
        for (int i = 0; i < n; ++i) vips += std::string(i ? ", " : "") + "\"" + prefix + std::to_string(i + 1) + "\"";
        return "vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 1; version = 3;\n"
               "  family = \"" +
               std::string(family) + "\"; virtual_addresses = ( " + vips + " ); } );";
    };
    CHECK(conf::loadString(config(90, "ipv6", "2001:db8::"), "t.conf").ok());
    auto r = conf::loadString(config(91, "ipv6", "2001:db8::"), "t.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(
        r.diagnostics[0].str() ==
        "t.conf:1: vrrp_instances[0].virtual_addresses: 91 virtual addresses do not fit in one advert (at most 90 for "
        "VRRPv3 over IPv6); put the others in excluded_addresses, which adverts do not carry");
    std::string v4;
    for (int i = 0; i < 256; ++i)
        v4 +=
            std::string(i ? ", " : "") + "\"10." + std::to_string(i / 250) + ".0." + std::to_string(i % 250 + 1) + "\"";
    r = conf::loadString(
        "vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 1;\n"
        "  virtual_addresses = ( " +
            v4 + " ); } );",
        "t.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].message.find("256 virtual addresses do not fit in one advert (at most 255") == 0);
}
