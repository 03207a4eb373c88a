// Tracked files (keepalived's track_file): the value's parsing and the weight/priority rules, as
// keepalived's trackers/track_file.c computes them, and the inotify watch on a real directory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "healthcheck/TrackedFile.h"

using healthcheck::fileCheckDelta;
using healthcheck::fileTrackDelta;
using healthcheck::parseTrackedValue;

TEST_CASE("track file: the value is strtol's, and out of range is ignored") {
    CHECK(parseTrackedValue("12\n") == 12);
    CHECK(parseTrackedValue("  -7 trailing") == -7);
    CHECK(parseTrackedValue("0x10") == 16);
    CHECK(parseTrackedValue("010") == 8);  // octal, as keepalived's strtol(.., 0)
    CHECK(parseTrackedValue("12abc") == 12);
    CHECK(parseTrackedValue("abc") == 0);
    CHECK(parseTrackedValue("") == 0);
    CHECK(parseTrackedValue("2147483648") == 2147483648LL);  // 2^31 is still taken
    CHECK_FALSE(parseTrackedValue("2147483649"));
    CHECK_FALSE(parseTrackedValue("-2147483649"));
    CHECK_FALSE(parseTrackedValue("99999999999999999999999"));  // ERANGE
}

TEST_CASE("track file: a real server's rule (FILE_CHECK)") {
    // weight 0: a status; non-zero fails, reverse: zero fails
    CHECK(fileCheckDelta(0, 0, false) == 0);
    CHECK_FALSE(fileCheckDelta(3, 0, false));
    CHECK_FALSE(fileCheckDelta(0, 0, true));
    CHECK(fileCheckDelta(3, 0, true) == 0);
    // otherwise value x weight (x -1 reversed) is added; down only at -2^31 or below
    CHECK(fileCheckDelta(5, 2, false) == 10);
    CHECK(fileCheckDelta(5, 2, true) == -10);
    CHECK(fileCheckDelta(-100000, 100, false) == -10000000);
    CHECK_FALSE(fileCheckDelta(-2147483648LL, 1, false));
    CHECK_FALSE(fileCheckDelta(2147483648LL, 1, true));
    CHECK(fileCheckDelta(2147483648LL, 1, false) == 2147483647);  // capped
}

TEST_CASE("track file: a VRRP instance's rule (track_file)") {
    CHECK(fileTrackDelta(0, 0, false) == 0);
    CHECK_FALSE(fileTrackDelta(1, 0, false));
    CHECK_FALSE(fileTrackDelta(0, 0, true));
    CHECK(fileTrackDelta(10, 1, false) == 10);
    CHECK(fileTrackDelta(10, -1, false) == -10);
    CHECK(fileTrackDelta(10, 1, true) == -10);
    CHECK(fileTrackDelta(1000, 1, false) == 253);   // capped
    CHECK(fileTrackDelta(-253, 1, false) == -253);  // still a priority change
    CHECK_FALSE(fileTrackDelta(-254, 1, false));    // FAULT
    CHECK_FALSE(fileTrackDelta(127, -2, false));
}

namespace {
struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        char tmpl[] = "/tmp/trackfile-XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(dir); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }
};

// Runs the loop until `pred` holds or two seconds pass.
template <class P>
bool runUntil(asio::io_context& io, P pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(std::chrono::milliseconds(10));
    }
    return pred();
}
}  // namespace

TEST_CASE("track file: the watch sees writes, renames and deletes, and ignores a bad number") {
    TempDir t;
    t.write("v", "5\n");
    asio::io_context io;
    auto watch = healthcheck::FileWatch::shared(io);
    CHECK(healthcheck::FileWatch::shared(io) == watch);  // one per loop
    std::vector<std::int64_t> seen;
    std::string why;
    const std::string path = (t.dir / "v").string();
    const int id = watch->subscribe(path, [&](std::int64_t v) { seen.push_back(v); }, why);
    REQUIRE(id != 0);
    CHECK(watch->value(path) == 5);
    t.write("v", "7");
    REQUIRE(runUntil(io, [&] { return seen.size() == 1; }));
    CHECK(seen.back() == 7);
    t.write("v.tmp", "9");
    std::filesystem::rename(t.dir / "v.tmp", t.dir / "v");  // replaced by a rename
    REQUIRE(runUntil(io, [&] { return seen.size() == 2; }));
    CHECK(seen.back() == 9);
    t.write("v", "99999999999");  // out of range: ignored, the value stays
    REQUIRE(runUntil(io, [&] { return watch->invalidValues() == 1; }));
    CHECK(watch->value(path) == 9);
    t.write("other", "3");  // another file in the directory is not ours
    std::filesystem::remove(t.dir / "v");
    REQUIRE(runUntil(io, [&] { return seen.size() == 3; }));
    CHECK(seen.back() == 0);  // gone: 0, as keepalived
    watch->unsubscribe(id);
    t.write("v", "4");
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    CHECK(seen.size() == 3);
    CHECK(watch->subscribe((t.dir / "no-such-dir" / "v").string(), [](std::int64_t) {}, why) == 0);
    CHECK(why.find("no-such-dir") != std::string::npos);
}

TEST_CASE("track file: the probe reports at once, then each change and nothing in between") {
    TempDir t;
    t.write("w", "3");
    asio::io_context io;
    healthcheck::FileProbe probe(io, (t.dir / "w").string(), 2, false);
    std::vector<healthcheck::ProbeResult> results;
    auto again = [&] { probe.run([&](healthcheck::ProbeResult r) { results.push_back(r); }); };
    again();
    REQUIRE(runUntil(io, [&] { return results.size() == 1; }));
    CHECK((results[0].ok() && results[0].weight == 6));
    again();  // waits for a change
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    CHECK(results.size() == 1);
    t.write("w", "-1073741824");  // x2 = -2^31: down
    REQUIRE(runUntil(io, [&] { return results.size() == 2; }));
    CHECK(results[1].failure == healthcheck::Failure::FileValue);
    CHECK(results[1].describe().find("file value -1073741824") == 0);
    healthcheck::FileProbe status(io, (t.dir / "s").string(), 0, false);  // weight 0, missing file: 0 = up
    std::optional<healthcheck::ProbeResult> st;
    status.run([&](healthcheck::ProbeResult r) { st = r; });
    REQUIRE(runUntil(io, [&] { return st.has_value(); }));
    CHECK((st->ok() && st->weight == 0));
}

TEST_CASE("track file: init_file writes a missing file, and overwrites only when asked") {
    TempDir t;
    std::string why;
    const std::string path = (t.dir / "i").string();
    REQUIRE(healthcheck::initTrackedFile(path, 5, false, why));
    CHECK(healthcheck::readTrackedFile(path) == 5);
    REQUIRE(healthcheck::initTrackedFile(path, 6, false, why));
    CHECK(healthcheck::readTrackedFile(path) == 5);
    REQUIRE(healthcheck::initTrackedFile(path, 6, true, why));
    CHECK(healthcheck::readTrackedFile(path) == 6);
    CHECK_FALSE(healthcheck::initTrackedFile(t.dir.string(), 1, true, why));  // not a regular file
}
