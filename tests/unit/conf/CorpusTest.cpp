// The loader against the corpus: every bad file's diagnostics, exactly (file, line, path, message);
// every good file and example loads, and its canonical dump loads back to an equal Config.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "conf/Dump.h"
#include "conf/Loader.h"

namespace fs = std::filesystem;

namespace {
const fs::path kSource = DIRECTORD_SOURCE_DIR;

std::vector<fs::path> filesIn(const fs::path& dir, const std::string& ext, bool recursive = false) {
    std::vector<fs::path> out;
    if (recursive) {
        for (const auto& e : fs::recursive_directory_iterator(dir))
            if (e.path().extension() == ext) out.push_back(e.path());
    } else {
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ext) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) v.push_back(l);
    return v;
}

void checkRoundTrip(const conf::Config& cfg, const std::string& name) {
    const std::string text = conf::dump(cfg);
    conf::LoadResult again = conf::loadString(text, name + " (dumped)");
    INFO(text);
    for (const auto& d : again.diagnostics) INFO(d.str());
    REQUIRE(again.ok());
    CHECK(*again.config == cfg);
    const std::string text2 = conf::dump(*again.config);
    CHECK(text2.substr(text2.find('\n')) == text.substr(text.find('\n')));
    // the minimal form (only what differs from the defaults) loads back equal too, and is shorter
    const std::string minimal = conf::dumpMinimal(cfg);
    conf::LoadResult fromMinimal = conf::loadString(minimal, name + " (minimal)");
    INFO(minimal);
    for (const auto& d : fromMinimal.diagnostics) INFO(d.str());
    REQUIRE(fromMinimal.ok());
    CHECK(*fromMinimal.config == cfg);
    CHECK(minimal.size() < text.size());
}
}  // namespace

TEST_CASE("bad corpus: each file gives exactly its expected diagnostics") {
    const fs::path dir = kSource / "tests/corpus/bad";
    const auto files = filesIn(dir, ".conf");
    REQUIRE(files.size() >= 10);
    for (const auto& f : files) {
        SECTION(f.filename().string()) {
            conf::LoadResult r = conf::loadFile(f.string());
            CHECK_FALSE(r.ok());
            std::vector<std::string> got;
            for (auto d : r.diagnostics) {
                const std::string prefix = dir.string() + "/";
                if (d.file.rfind(prefix, 0) == 0) d.file = d.file.substr(prefix.size());
                got.push_back(d.str());
            }
            fs::path expected = f;
            expected.replace_extension(".expected");
            CHECK(got == lines(expected));
        }
    }
}

TEST_CASE("good corpus and examples load and round-trip through the canonical dump") {
    auto files = filesIn(kSource / "tests/corpus/good", ".conf");
    for (const auto& e : filesIn(kSource / "conf/examples", ".conf", true))
        if (e.filename() != "common.conf") files.push_back(e);
    REQUIRE(files.size() >= 8);
    for (const auto& f : files) {
        SECTION(f.string()) {
            conf::LoadResult r = conf::loadFile(f.string());
            for (const auto& d : r.diagnostics) INFO(d.str());
            REQUIRE(r.ok());
            checkRoundTrip(*r.config, f.string());
        }
    }
}

TEST_CASE("the full corpus file resolves every setting as written") {
    conf::LoadResult r = conf::loadFile((kSource / "tests/corpus/good/full.conf").string());
    REQUIRE(r.ok());
    const conf::Config& c = *r.config;
    CHECK(c.global.dataPlane == conf::DataPlane::Kernel);
    CHECK(c.global.resyncInterval == std::chrono::milliseconds(2500));
    CHECK(c.global.syncDaemon.enabled);
    CHECK(c.global.syncDaemon.group.str() == "224.0.0.82");
    CHECK(c.global.status.listen->str() == "[::1]:9380");
    REQUIRE(c.vrrpScripts.size() == 2);
    CHECK(c.vrrpScripts[0].command.argv == std::vector<std::string>{"/bin/true", "with space"});
    CHECK(c.vrrpScripts[1].command.argv == std::vector<std::string>{"/usr/bin/test", "-e", "/tmp/a b"});
    const auto& vi = c.vrrpInstances.at(0);
    CHECK(vi.advertInterval == std::chrono::milliseconds(250));
    CHECK(vi.initialMaster);
    CHECK(vi.dontTrackPrimary);
    CHECK((vi.vmac.enabled && vi.vmac.name == "vm51" && vi.vmac.xmitBase));
    CHECK((c.vrrpInstances.at(1).vmac.enabled && c.vrrpInstances.at(1).vmac.name == "vrrp.51"));
    CHECK_FALSE(c.vrrpInstances.at(2).vmac.enabled);
    CHECK(vi.virtualAddresses.at(0).prefix.prefix == 24);
    CHECK(vi.virtualAddresses.at(1).dev == "eth2");
    CHECK(vi.trackScripts.at(0).weight == 5);
    CHECK_FALSE(vi.trackScripts.at(1).weight);
    CHECK_FALSE(vi.checksumPseudoHeader);
    CHECK(c.vrrpInstances.at(2).authType == conf::AuthType::Pass);
    const auto& vs = c.virtualServers.at(0);
    CHECK(vs.persistenceNetmask == 24);
    CHECK(vs.schedFallback);
    CHECK(vs.schedPort);
    CHECK(vs.tunnel.type == conf::TunnelType::Gue);
    const auto& rs = vs.realServers.at(0);
    CHECK(rs.forwarding == conf::Forwarding::Route);
    CHECK(rs.inhibitOnFailure == false);
    REQUIRE(rs.checks.size() == 12);
    CHECK(rs.checks[0].connectPort == 9000);
    CHECK(rs.checks[1].statusCodes == std::vector<conf::StatusRange>{{200, 204}, {301, 301}});
    CHECK(rs.checks[1].digest == "9e107d9d372bb6826bd81d3542a419d6");
    CHECK((rs.checks[0].bindPort == 40123 && rs.checks[0].bindInterface == "eth1" && rs.checks[0].fwmark == 42 &&
           rs.checks[0].logAllFailures));
    CHECK((rs.checks[1].regexOptions == std::vector<std::string>{"caseless", "multiline"} &&
           rs.checks[1].regexMinOffset == 4 && rs.checks[1].regexMaxOffset == 400 && rs.checks[1].regexHeaders));
    CHECK(rs.checks[3].dynamicWeight);
    CHECK(rs.checks[4].type == conf::CheckType::Udp);
    CHECK(rs.checks[4].payload == std::string("\xde\xad\xbe\xef"));
    CHECK(rs.checks[4].reply == std::string("\xca\xf0"));
    CHECK(rs.checks[4].replyMask == std::string("\x00\x0f", 2));
    CHECK(rs.checks[4].requireReply);  // implied by reply
    CHECK(rs.checks[4].maxReplyLength == 512);
    CHECK(rs.checks[5].requireReply);
    CHECK(rs.checks[5].reply.empty());
    CHECK(rs.checks[1].http2);
    CHECK((rs.checks[6].type == conf::CheckType::Grpc && rs.checks[6].grpcService == "orders" && rs.checks[6].tls &&
           rs.checks[6].verify && rs.checks[6].sni == "g.example.com" && rs.checks[6].connectPort == 8443));
    CHECK(rs.checks[7].type == conf::CheckType::Dns);
    CHECK(rs.checks[7].queryName == "www.example.com.");
    CHECK(rs.checks[7].queryType == "AAAA");
    CHECK((rs.checks[8].type == conf::CheckType::Smtp && rs.checks[8].heloName == "lb.example.com"));
    CHECK(rs.checks[9].type == conf::CheckType::Ping);
    CHECK((rs.checks[10].type == conf::CheckType::File && rs.checks[10].trackFile == "load"));
    CHECK((rs.checks[10].fileWeight == 2 && rs.checks[10].fileReverse == false));
    CHECK((rs.checks[11].type == conf::CheckType::Bfd && rs.checks[11].bfd == "gw"));
    REQUIRE(c.bfdInstances.size() == 2);
    const auto& gw = c.bfdInstances[0];
    CHECK((gw.neighbor->str() == "10.0.2.1" && gw.source->str() == "10.0.2.10" &&
           gw.minRx == std::chrono::milliseconds(50) && gw.minTx == std::chrono::milliseconds(20) &&
           gw.idleTx == std::chrono::seconds(2) && gw.multiplier == 4 && gw.passive && gw.ttl == 254 &&
           gw.maxHops == 1 && !gw.multihop));
    CHECK((c.bfdInstances[1].multihop && c.bfdInstances[1].maxHops == -1 && c.bfdInstances[1].ttl == 255 &&
           c.bfdInstances[1].weight == -30 && c.bfdInstances[1].reverse));
    REQUIRE(c.staticRules.size() == 2);
    CHECK((c.staticRules[0].family == base::Family::V6 && c.staticRules[0].oif == "eth2" && c.staticRules[0].table == 6));
    CHECK((c.staticRules[1].family == base::Family::V6 && c.staticRules[1].action == "unreachable"));
    REQUIRE(c.vrrpInstances.at(0).virtualRules.size() == 2);
    CHECK(conf::ruleText(c.vrrpInstances[0].virtualRules[0]) == "pref 1000 from 10.0.0.10/32 lookup 100");
    CHECK(conf::ruleText(c.vrrpInstances[0].virtualRules[1]) ==
          "from all to 10.66.0.0/16 fwmark 0x7/0xff tos 16 iif eth1 prohibit");
    REQUIRE(c.vrrpInstances.at(0).trackBfds.size() == 2);
    CHECK((c.vrrpInstances[0].trackBfds[0].bfd == "gw" && !c.vrrpInstances[0].trackBfds[0].weight));
    CHECK((c.vrrpInstances[0].trackBfds[1].weight == 20 && c.vrrpInstances[0].trackBfds[1].reverse == false));
    REQUIRE(c.staticAddresses.size() == 2);
    CHECK((c.staticAddresses[0].dev == "eth1" && c.staticAddresses[0].label == "eth1:s" &&
           c.staticAddresses[1].prefix.str() == "2001:db8::50/64"));
    REQUIRE(c.trackFiles.size() == 2);
    CHECK((c.trackFiles[0].weight == 0 && c.trackFiles[0].reverse && c.trackFiles[0].initValue == 1 &&
           c.trackFiles[0].initOverwrite));
    CHECK((c.trackFiles[1].path == "/tmp/directord-load" && c.trackFiles[1].weight == -3));
    REQUIRE(vi.virtualRoutes.size() == 2);
    CHECK((vi.virtualRoutes[0].to.str() == "0.0.0.0/0" && vi.virtualRoutes[0].table == 100));
    CHECK(vi.virtualRoutes[1].type == "blackhole");
    CHECK(vi.smtpAlert);
    REQUIRE(c.staticRoutes.size() == 1);
    CHECK((c.staticRoutes[0].metric == 7 && c.staticRoutes[0].via->str() == "10.0.0.254"));
    REQUIRE(vi.trackFiles.size() == 2);
    CHECK((vi.trackFiles[1].file == "load" && vi.trackFiles[1].weight == -10 && vi.trackFiles[1].reverse == true));
    CHECK_FALSE(vi.trackFiles[0].weight);
    CHECK(vs.realServers.at(1).port == 8080);
    CHECK(c.virtualServers.at(1).fwmark == 4000000000u);
    CHECK(c.virtualServers.at(1).realServers.at(0).port == 0);
}
