#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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

// The edges libconfig 1.5 gets wrong on its own (conf/Prescan.h), and files that are not files.
TEST_CASE("config edges: integers past 32 bits, huge strings, directories, FIFOs, long socket paths") {
    auto one = [](const conf::LoadResult& r) {
        REQUIRE(r.diagnostics.size() == 1);
        return r.diagnostics[0].str();
    };
    // atoi would make this 80
    CHECK(one(conf::loadString("virtual_servers = ( { address = \"10.0.0.1\";\n port = 4294967376; } );", "t.conf")) ==
          "t.conf:2: (top): the integer 4294967376 does not fit in 32 bits, and libconfig would read it as another "
          "number; if the setting takes it, write it as 4294967376L");
    // with the suffix it is a 64-bit integer, and the setting's range says no
    CHECK(one(conf::loadString("virtual_servers = ( { address = \"10.0.0.1\"; port = 4294967376L; } );", "t.conf")) ==
          "t.conf:1: virtual_servers[0].port: 4294967376 is out of range (0..65535)");
    CHECK(conf::loadString("global = { router_id = \"x-4294967376\"; }; # 99999999999\n", "t.conf").diagnostics ==
          conf::Diagnostics{});
    CHECK(conf::loadString("virtual_servers = ( { fwmark = 3000000000L; } );", "t.conf").diagnostics.empty());
    // a 10 MB string: refused at once (libconfig alone takes tens of seconds)
    const auto t0 = std::chrono::steady_clock::now();
    const std::string big = "global = { router_id = \"" + std::string(10'000'000, 'a') + "\"; };";
    CHECK(one(conf::loadString(big, "t.conf")) ==
          "t.conf:1: (top): a string longer than 65536 bytes; no setting takes one that long");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    // joined literals count as one string
    std::string joined = "global = { router_id = ";
    for (int i = 0; i < 3000; ++i) joined += "\"" + std::string(30, 'b') + "\" ";
    CHECK(one(conf::loadString(joined + "; };", "t.conf")).find("a string longer than") != std::string::npos);
    CHECK(one(conf::loadFile("/etc")) == "/etc:0: (top): is a directory, not a config file");
    const std::string fifo = "/tmp/directord-fifo-" + std::to_string(::getpid());
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(one(conf::loadFile(fifo)) ==  // returns at once: never opened for a blocking read
          fifo + ":0: (top): is not a regular file (a FIFO, device or socket); a config is read from a file");
    CHECK(one(conf::loadString("@include \"" + fifo + "\"\n", "t.conf")) ==
          "t.conf:1: (top): @include \"" + fifo +
              "\": is not a regular file (a FIFO, device or socket); a config is read from a file");
    ::unlink(fifo.c_str());
    CHECK(one(conf::loadString("global = { control_socket = \"/run/" + std::string(120, 's') + "\"; };", "t.conf")) ==
          "t.conf:1: global.control_socket: is 125 bytes long; a unix socket path holds at most 107");
}

TEST_CASE("script_security at load: every command that would run as root, on its resolved path", "[root]") {
    const std::string dir = "/var/tmp/conf-sec-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir + "/open");
    ::chmod((dir + "/open").c_str(), 0777);
    { std::ofstream(dir + "/open/notify") << "#!/bin/sh\n"; }
    ::chmod((dir + "/open/notify").c_str(), 0755);
    // a root-owned link in a safe folder, into the open one
    std::filesystem::create_symlink(dir + "/open/notify", dir + "/link");
    const std::string text =
        "global = { script_user = \"root\"; };\n"
        "vrrp_scripts = ( { name = \"chk\"; script = \"" +
        dir +
        "/link\"; } );\n"
        "vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 1;\n"
        "  priority = 100; virtual_addresses = ( { address = \"10.0.0.1/24\"; } );\n"
        "  notify = { master = \"" +
        dir +
        "/open/notify\"; }; } );\n"
        "virtual_servers = ( { address = \"10.0.0.1\"; port = 80; quorum_down = \"/bin/true\";\n"
        "  real_servers = ( { address = \"10.0.0.2\"; notify_up = \"/usr/bin/true\"; } ); } );\n";
    const auto r = conf::loadString(text, "t.conf");
    REQUIRE(r.diagnostics.size() == 2);
    CHECK(r.diagnostics[0].str().rfind("t.conf:2: vrrp_scripts[0].script: " + dir +
                                           "/open is writable by group or "
                                           "others; refusing to run " +
                                           dir + "/link as root",
                                       0) == 0);
    CHECK(r.diagnostics[1].str().rfind("t.conf:3: vrrp_instances[0].notify.master: " + dir + "/open is writable", 0) ==
          0);
    // as another user they are fine; and with script_security off, too
    CHECK(conf::loadString(std::string(text).replace(text.find("\"root\""), 6, "\"nobody\""), "t.conf").ok());
    const std::string off =
        "global = { script_user = \"root\"; script_security = false; };" + text.substr(text.find('\n'));
    CHECK(conf::loadString(off, "t.conf").ok());
    CHECK(
        conf::loadString("global = { script_user = \"no-such-user-here\"; };" + text.substr(text.find('\n')), "t.conf")
            .diagnostics.size() == 4);  // every command names the missing user
    std::filesystem::remove_all(dir);
}

TEST_CASE("accept_mode: true by default; false (keepalived's no_accept) loads") {
    const char* text = R"(
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; version = 3; accept_mode = false;
                     virtual_addresses = ( "10.0.0.10" ); } );
)";
    conf::LoadResult r = conf::loadString(text, "t.conf");
    REQUIRE(r.ok());
    CHECK_FALSE(r.config->vrrpInstances[0].acceptMode);
    conf::LoadResult ok = conf::loadString(R"(
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 51; virtual_addresses = ( "10.0.0.10" ); } );
)",
                                           "t.conf");
    REQUIRE(ok.ok());
    CHECK(ok.config->vrrpInstances[0].acceptMode);
}

TEST_CASE("include cycles are refused with their chain, at once; so is a load past the include caps") {
    const std::string dir = "/tmp/conf-inc-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir + "/" + name) << text; };
    // a file that includes itself four times: before, 12.7 s, 763 MB and 4 million errors
    write("self.conf", "@include \"self.conf\"\n@include \"self.conf\"\n@include \"self.conf\"\n@include \"self.conf\"\n");
    const auto t0 = std::chrono::steady_clock::now();
    auto r = conf::loadFile(dir + "/self.conf");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].str() == dir + "/self.conf:1: (top): @include \"self.conf\" closes a cycle: " + dir +
                                        "/self.conf -> " + dir +
                                        "/self.conf (a file must not include itself, directly or through others)");
    // through another file, and through a link to it (the same inode under another name)
    write("a.conf", "global = { router_id = \"a\"; };\n@include \"b.conf\"\n");
    write("b.conf", "\n\n@include \"alias.conf\"\n");
    std::filesystem::create_symlink(dir + "/a.conf", dir + "/alias.conf");
    r = conf::loadFile(dir + "/a.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].file == dir + "/b.conf");
    CHECK(r.diagnostics[0].line == 3);
    CHECK(r.diagnostics[0].message.find("closes a cycle: " + dir + "/a.conf -> " + dir + "/b.conf -> " + dir +
                                        "/alias.conf") != std::string::npos);
    // the same file included twice, not in a cycle, is fine (a diamond)
    write("leaf.conf", "");
    write("d.conf", "@include \"leaf.conf\"\n@include \"leaf.conf\"\nglobal = { router_id = \"d\"; };\n");
    CHECK(conf::loadFile(dir + "/d.conf").diagnostics.empty());
    // a tree of includes past the file cap: refused at the include that passes it
    write("wide.conf", "");
    std::string many;
    for (int i = 0; i < 300; ++i) many += "@include \"wide.conf\"\n";
    write("many.conf", many);
    r = conf::loadFile(dir + "/many.conf");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].line == 256);
    CHECK(r.diagnostics[0].message.find("more than 256 files included") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("vmac: keepalived's names where the file names none; a name twice, or an interface's, is refused") {
    conf::LoadResult r = conf::loadString(R"(
vrrp_instances = (
  { name = "A"; interface = "eth0"; virtual_router_id = 7; vmac = { }; virtual_addresses = ( "10.0.0.10" ); },
  { name = "B"; interface = "eth0"; virtual_router_id = 7; family = "ipv6"; version = 3; vmac = { };
    virtual_addresses = ( "2001:db8::10" ); },
  { name = "C"; interface = "eth1"; virtual_router_id = 7; vmac = { }; virtual_addresses = ( "10.1.0.10" ); },
  { name = "D"; interface = "eth2"; virtual_router_id = 7; family = "ipv6"; version = 3; vmac = { };
    virtual_addresses = ( "2001:db8:1::10" ); },
  { name = "E"; interface = "eth3"; virtual_router_id = 7; family = "ipv6"; version = 3; vmac = { };
    virtual_addresses = ( "2001:db8:2::10" ); },
  { name = "F"; interface = "eth4"; virtual_router_id = 7; vmac = { name = "vrrp2.7"; };
    virtual_addresses = ( "10.4.0.10" ); },
  { name = "G"; interface = "eth5"; virtual_router_id = 7; virtual_addresses = ( "10.5.0.10" ); }
);
)",
                                          "t.conf");
    REQUIRE(r.ok());
    std::vector<std::string> names;
    for (const auto& v : r.config->vrrpInstances) names.push_back(v.vmac.enabled ? v.vmac.name : "-");
    // keepalived's create_vmac_name: vrrp.7, then IPv6 tries vrrp6.7, then vrrp1.7, vrrp2.7 (taken
    // by F's own name), ...
    CHECK(names == std::vector<std::string>{"vrrp.7", "vrrp6.7", "vrrp1.7", "vrrp3.7", "vrrp4.7", "vrrp2.7", "-"});
    conf::LoadResult bad = conf::loadString(R"(
vrrp_instances = (
  { name = "A"; interface = "eth0"; virtual_router_id = 7; vmac = { name = "v7"; }; virtual_addresses = ( "10.0.0.10" ); },
  { name = "B"; interface = "eth1"; virtual_router_id = 8; vmac = { name = "v7"; }; virtual_addresses = ( "10.0.0.11" ); },
  { name = "C"; interface = "eth1"; virtual_router_id = 9; vmac = { name = "eth0"; }; virtual_addresses = ( "10.0.0.12" ); },
  { name = "D"; interface = "eth1"; virtual_router_id = 10; vmac = { name = "a/b"; }; virtual_addresses = ( "10.0.0.13" ); }
);
)",
                                            "t.conf");
    REQUIRE(bad.diagnostics.size() == 3);
    CHECK(bad.diagnostics[0].str().find("vrrp_instances[1].vmac.name: macvlan v7 is also instance 'A''s") !=
          std::string::npos);
    CHECK(bad.diagnostics[1].str().find("eth0 is an instance's interface") != std::string::npos);
    CHECK(bad.diagnostics[2].str().find("'a/b' is not an interface name") != std::string::npos);
}

TEST_CASE("auth_hmac: keys inline, from a file and from a credential; each mistake named") {
    char tmpl[] = "/tmp/directord-hmac-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string dir = tmpl;
    const std::string hexKey = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
        const std::string p = dir + "/" + name;
        std::ofstream(p) << text;
        REQUIRE(::chmod(p.c_str(), mode) == 0);
        return p;
    };
    const std::string good = write("k2", "an ASCII key of thirty-two bytes!\r\n", 0600);
    const std::string open = write("k3", hexKey + "\n", 0644);
    auto conf = [&](const std::string& keys, const std::string& extra = "") {
        return "vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 51; version = 3;\n"
               "  auth_hmac = { keys = ( " + keys + " ); active_key = 1; " + extra + " };\n"
               "  virtual_addresses = ( \"10.0.0.10/24\" ); } );\n";
    };
    auto r = conf::loadString(conf("{ id = 1; key = \"" + hexKey + "\"; }, { id = 2; file = \"" + good + "\"; }",
                                   "mode = \"permissive\"; anti_replay = \"monotonic\"; time_window = 9;"),
                              "t.conf");
    INFO((r.diagnostics.empty() ? std::string() : r.diagnostics[0].str()));
    REQUIRE(r.ok());
    const auto& h = r.config->vrrpInstances.at(0).authHmac;
    CHECK(h.enabled);
    REQUIRE(h.keys.size() == 2);
    CHECK(h.keys[0].bytes.size() == 32);
    CHECK(h.keys[0].bytes[31] == 0x1f);
    CHECK(std::string(h.keys[1].bytes.begin(), h.keys[1].bytes.end()) == "an ASCII key of thirty-two bytes!");
    CHECK(h.mode == conf::HmacMode::Permissive);
    CHECK_FALSE(h.antiReplayTime);
    CHECK(h.timeWindow == 9);
    // systemd's credentials
    const std::string cred = write("vrrp-key", hexKey, 0600);
    ::setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
    r = conf::loadString(conf("{ id = 1; credential = \"vrrp-key\"; }"), "t.conf");
    ::unsetenv("CREDENTIALS_DIRECTORY");
    REQUIRE(r.ok());
    CHECK(r.config->vrrpInstances.at(0).authHmac.keys.at(0).bytes.size() == 32);

    auto error = [&](const std::string& text) {
        auto e = conf::loadString(text, "t.conf");
        REQUIRE_FALSE(e.ok());
        return e.diagnostics.at(0).str();
    };
    CHECK(error(conf("{ id = 1; key = \"short\"; }")).find("the key is 5 bytes; auth_hmac keys are 32..64 bytes") !=
          std::string::npos);
    CHECK(error(conf("{ id = 1; key = \"hex:zz\"; }")).find("'hex:' is not followed by hex digits") != std::string::npos);
    CHECK(error(conf("{ id = 1; file = \"" + open + "\"; }")).find("is readable by group or others (chmod 600 it)") !=
          std::string::npos);
    CHECK(error(conf("{ id = 1; file = \"" + dir + "/none\"; }")).find("cannot read the key file") != std::string::npos);
    CHECK(error(conf("{ id = 1; }")).find("give the key exactly one way") != std::string::npos);
    CHECK(error(conf("{ id = 2; key = \"" + hexKey + "\"; }")).find("active_key 1 is not one of the keys") !=
          std::string::npos);
    CHECK(error(conf("{ id = 1; key = \"" + hexKey + "\"; }, { id = 1; key = \"" + hexKey + "\"; }"))
              .find("key id 1 is given twice") != std::string::npos);
    CHECK(error(conf("{ id = 1; credential = \"x\"; }")).find("$CREDENTIALS_DIRECTORY is not set") != std::string::npos);
    const std::string both =
        "vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 51; version = 2;\n"
        "  authentication = { type = \"PASS\"; password = \"x\"; };\n"
        "  auth_hmac = { keys = ( { id = 1; key = \"" + hexKey + "\"; } ); active_key = 1; };\n"
        "  virtual_addresses = ( \"10.0.0.10/24\" ); } );\n";
    CHECK(error(both).find("auth_hmac replaces `authentication`") != std::string::npos);
    for (const char* f : {"k2", "k3", "vrrp-key"}) ::unlink((dir + "/" + f).c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("advert_paths: another interface, the instance's family") {
    auto load = [](const std::string& paths) {
        return conf::loadString("vrrp_instances = ( { name = \"VI_1\"; interface = \"eth0\"; virtual_router_id = 51;\n"
                                "  version = 3; advert_paths = ( " + paths + " );\n"
                                "  virtual_addresses = ( \"10.0.0.10/24\" ); } );\n",
                                "t.conf");
    };
    auto r = load("{ interface = \"eth1\"; unicast_peers = [ \"10.98.0.2\" ]; }, { interface = \"eth2\"; }");
    REQUIRE(r.ok());
    const auto& p = r.config->vrrpInstances.at(0).advertPaths;
    REQUIRE(p.size() == 2);
    CHECK(p[0].interface == "eth1");
    CHECK(p[0].unicastPeers.at(0).str() == "10.98.0.2");
    CHECK(p[1].unicastPeers.empty());
    auto error = [&](const std::string& paths) {
        auto e = load(paths);
        REQUIRE_FALSE(e.ok());
        return e.diagnostics.at(0).str();
    };
    CHECK(error("{ interface = \"eth0\"; }").find("the instance's own interface") != std::string::npos);
    CHECK(error("{ interface = \"eth1\"; }, { interface = \"eth1\"; }").find("is a path already") != std::string::npos);
    CHECK(error("{ interface = \"eth1\"; unicast_peers = [ \"fd00::2\" ]; }").find("not of the instance's address family") !=
          std::string::npos);
    CHECK(error("{ unicast_peers = [ \"10.98.0.2\" ]; }").find("missing required setting 'interface'") != std::string::npos);
}
