// The config's binary encoding (what the supervisor sends its workers on reload): every good
// corpus file and example survives the round trip exactly, locations included; a truncated or
// altered message is refused or decodes to something, never crashes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "conf/Codec.h"
#include "conf/Dump.h"
#include "conf/Loader.h"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> goodConfigs() {
    const fs::path src = DIRECTORD_SOURCE_DIR;
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(src / "tests/corpus/good"))
        if (e.path().extension() == ".conf") out.push_back(e.path());
    for (const auto& e : fs::recursive_directory_iterator(src / "conf/examples"))
        if (e.path().extension() == ".conf" && e.path().filename() != "common.conf") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

TEST_CASE("config codec: every good config round-trips exactly") {
    const auto files = goodConfigs();
    REQUIRE(files.size() >= 8);
    for (const auto& f : files) {
        INFO(f.string());
        const auto loaded = conf::loadFile(f.string());
        REQUIRE(loaded.ok());
        const conf::Config& c = *loaded.config;
        const std::string bytes = conf::encodeConfig(c);
        const auto back = conf::decodeConfig(bytes);
        REQUIRE(back);
        CHECK(*back == c);
        CHECK(back->file == c.file);
        CHECK(conf::dump(*back) == conf::dump(c));
        // Locations compare equal by design; check them one by one.
        REQUIRE(back->virtualServers.size() == c.virtualServers.size());
        for (size_t i = 0; i < c.virtualServers.size(); ++i) {
            CHECK(back->virtualServers[i].where.file == c.virtualServers[i].where.file);
            CHECK(back->virtualServers[i].where.line == c.virtualServers[i].where.line);
            for (size_t j = 0; j < c.virtualServers[i].realServers.size(); ++j)
                CHECK(back->virtualServers[i].realServers[j].where.line ==
                      c.virtualServers[i].realServers[j].where.line);
        }
        for (size_t i = 0; i < c.vrrpInstances.size(); ++i)
            CHECK(back->vrrpInstances[i].where.line == c.vrrpInstances[i].where.line);
    }
}

TEST_CASE("config codec: truncated and altered messages never crash, trailing bytes are refused") {
    const fs::path src = DIRECTORD_SOURCE_DIR;
    const auto loaded = conf::loadFile((src / "tests/corpus/good/full.conf").string());
    REQUIRE(loaded.ok());
    const std::string bytes = conf::encodeConfig(*loaded.config);
    for (size_t n = 0; n < bytes.size(); n += 7) CHECK_FALSE(conf::decodeConfig(bytes.substr(0, n)));
    CHECK_FALSE(conf::decodeConfig(bytes + "x"));
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        std::string m = bytes;
        for (int k = 0; k < 4; ++k) m[rng() % m.size()] = static_cast<char>(rng());
        (void)conf::decodeConfig(m);  // may decode or not; must not crash or allocate wildly
    }
}
