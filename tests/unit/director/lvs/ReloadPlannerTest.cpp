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
