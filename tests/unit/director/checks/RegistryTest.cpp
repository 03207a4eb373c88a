// The check registry (director/checks/CheckKind.h): every check type the config accepts has a row,
// and a check's identity (what a reload keeps running) changes with each of its type's fields.
#include <catch2/catch.hpp>

#include "conf/Loader.h"
#include "director/lvs/ProbeFactory.h"
#include "director/checks/CheckKind.h"

namespace {


conf::Config load(const std::string& check) {
    conf::LoadResult r = conf::loadString(
        "track_files = ( { name = \"f\"; file = \"/run/f\"; }, { name = \"g\"; file = \"/run/g\"; } ); "
        "bfd_instances = ( { name = \"b\"; neighbor_ip = \"10.0.1.1\"; }, { name = \"c\"; neighbor_ip = \"10.0.1.2\"; } ); "
        "virtual_servers = ( { address = \"10.0.0.1\"; port = 80; real_servers = ( { address = \"10.0.1.1\"; "
        "checks = ( " + check + " ); } ); } );",
        "t.conf");
    INFO(check);
    REQUIRE(r.ok());
    return *r.config;
}

std::string key(const std::string& check) {
    const auto cfg = load(check);
    const auto& vs = cfg.virtualServers[0];
    return director::lvs::checkKey(cfg, vs, vs.realServers[0], vs.realServers[0].checks[0]);
}

}  // namespace

TEST_CASE("check registry: every type the config accepts has a row") {
    // every value of the enum (conf::name says "?" past the last), so a new type without a row fails
    int types = 0;
    for (int t = 0;; ++t) {
        const std::string type = conf::name(static_cast<conf::CheckType>(t));
        if (type == "?") break;
        ++types;
        const std::string check =
            "{ type = \"" + type + "\";" + (type == "script" ? " script = \"/bin/true\";" : "") +
            (type == "file" ? " track_file = \"f\";" : "") + (type == "bfd" ? " bfd = \"b\";" : "") + " }";
        const auto cfg = load(check);
        const auto& c = cfg.virtualServers[0].realServers[0].checks[0];
        CHECK(std::string(conf::name(c.type)) == type);
        const auto* kind = director::checks::find(c.type);
        REQUIRE(kind);
        CHECK(kind->type == c.type);
        CHECK(kind->key);
        CHECK(kind->make);
    }
    CHECK(types == 11);
}

TEST_CASE("check registry: a check's identity follows its type's fields, not only the target") {
    CHECK(key(R"({ type = "tcp"; })") == key(R"({ type = "tcp"; })"));
    CHECK(key(R"({ type = "tcp"; })") != key(R"({ type = "tcp"; connect_port = 81; })"));
    CHECK(key(R"({ type = "http"; path = "/a"; })") != key(R"({ type = "http"; path = "/b"; })"));
    CHECK(key(R"({ type = "http"; path = "/a"; })") != key(R"({ type = "https"; path = "/a"; })"));
    CHECK(key(R"({ type = "script"; script = "/bin/true"; })") != key(R"({ type = "script"; script = "/bin/false"; })"));
    CHECK(key(R"({ type = "script"; script = "/bin/true a"; })") != key(R"({ type = "script"; script = "/bin/true"; user = "nobody"; })"));
    CHECK(key(R"({ type = "udp"; payload = "01"; })") != key(R"({ type = "udp"; payload = "02"; })"));
    CHECK(key(R"({ type = "udp"; reply = "0X"; })") != key(R"({ type = "udp"; reply = "00"; })"));
    CHECK(key(R"({ type = "udp"; })") != key(R"({ type = "udp"; require_reply = true; })"));
    CHECK(key(R"({ type = "dns"; query_name = "a.test"; })") != key(R"({ type = "dns"; query_name = "b.test"; })"));
    CHECK(key(R"({ type = "dns"; query_type = "A"; })") != key(R"({ type = "dns"; query_type = "MX"; })"));
    CHECK(key(R"({ type = "smtp"; helo_name = "a"; })") != key(R"({ type = "smtp"; helo_name = "b"; })"));
    CHECK(key(R"({ type = "ping"; })") != key(R"({ type = "ping"; connect_ip = "10.0.1.9"; })"));
    CHECK(key(R"({ type = "ping"; })") != key(R"({ type = "tcp"; })"));
    CHECK(key(R"({ type = "file"; track_file = "f"; })") != key(R"({ type = "file"; track_file = "g"; })"));
    CHECK(key(R"({ type = "file"; track_file = "f"; })") != key(R"({ type = "file"; track_file = "f"; weight = 2; })"));
    CHECK(key(R"({ type = "file"; track_file = "f"; })") != key(R"({ type = "file"; track_file = "f"; reverse = true; })"));
    CHECK(key(R"({ type = "bfd"; bfd = "b"; })") == key(R"({ type = "bfd"; bfd = "b"; })"));
    CHECK(key(R"({ type = "bfd"; bfd = "b"; })") != key(R"({ type = "bfd"; bfd = "c"; })"));
}
