#include <catch2/catch.hpp>

#include "unit/director/ConfigFixture.h"

#include "conf/Loader.h"
#include "director/lvs/ReloadPlanner.h"

using fixture::load;

TEST_CASE("reload plan by stable key") {
    const auto before = load(R"(
vrrp_instances = ( { name = "A"; interface = "eth0"; virtual_router_id = 1; },
                   { name = "B"; interface = "eth0"; virtual_router_id = 2; } );
virtual_servers = ( { address = "10.0.0.1"; port = 80; real_servers = ( { address = "10.0.1.1"; port = 80; } ); },
                    { address = "10.0.0.1"; port = 443; },
                    { address = "10.0.0.1"; port = 25; } );)");
    const auto after = load(R"(
vrrp_instances = ( { name = "A"; interface = "eth0"; virtual_router_id = 1; priority = 120; },
                   { name = "C"; interface = "eth0"; virtual_router_id = 3; } );
virtual_servers = ( { address = "10.0.0.1"; port = 80; real_servers = ( { address = "10.0.1.1"; port = 80; weight = 5; } ); },
                    { address = "10.0.0.1"; port = 443; },
                    { address = "10.0.0.1"; port = 53; protocol = "udp"; } );)");
    const auto p = director::lvs::planReload(before, after);
    CHECK(p.vsChanged == std::vector<std::string>{"10.0.0.1:80/tcp"});
    CHECK(p.vsKept == std::vector<std::string>{"10.0.0.1:443/tcp"});
    CHECK(p.vsAdded == std::vector<std::string>{"10.0.0.1:53/udp"});
    CHECK(p.vsRemoved == std::vector<std::string>{"10.0.0.1:25/tcp"});
    CHECK(p.vrrpChanged == std::vector<std::string>{"A"});
    CHECK(p.vrrpAdded == std::vector<std::string>{"C"});
    CHECK(p.vrrpRemoved == std::vector<std::string>{"B"});
    CHECK_FALSE(p.globalChanged);
    CHECK(
        p.summary() ==
        "virtual servers: 1 added, 1 removed, 1 changed, 1 unchanged; vrrp instances: 1 added, 1 removed, 1 changed, 0 unchanged");
}

TEST_CASE("reload plan: a changed track file or BFD instance touches the services whose checks follow it") {
    auto conf = [](const char* bfdMinRx, const char* file) {
        return load(std::string(R"(
track_files = ( { name = "f"; file = ")") + file + R"("; } );
bfd_instances = ( { name = "b"; neighbor_ip = "10.0.1.1"; min_rx = )" + bfdMinRx + R"(; } );
virtual_servers = ( { address = "10.0.0.1"; port = 80; real_servers = ( { address = "10.0.1.1"; port = 80;
                        checks = ( { type = "bfd"; bfd = "b"; } ); } ); },
                    { address = "10.0.0.1"; port = 81; real_servers = ( { address = "10.0.1.1"; port = 81;
                        checks = ( { type = "file"; track_file = "f"; } ); } ); },
                    { address = "10.0.0.1"; port = 82; } );)");
    };
    const auto base = conf("0.1", "/run/f");
    auto touched = [&](const conf::Config& after) {
        std::vector<int> ports;
        for (const auto& k : director::lvs::planReload(base, after).vsTouched) ports.push_back(k.port);
        return ports;
    };
    CHECK(touched(conf("0.1", "/run/f")).empty());
    CHECK(touched(conf("0.2", "/run/f")) == std::vector<int>{80});
    CHECK(touched(conf("0.1", "/run/g")) == std::vector<int>{81});
}
