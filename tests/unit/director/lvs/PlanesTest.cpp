// The planes part's settings (director/lvs/Planes.h): the userspace plane's budgets and IPVS's
// timeouts from the config, and both applied to a table.
#include <catch2/catch.hpp>

#include "director/lvs/Planes.h"
#include "kmod/memory/InMemoryIpvsTable.h"
#include "unit/director/ConfigFixture.h"

TEST_CASE("planes: budgets and timeouts from the config") {
    const auto none = fixture::load("global = { data_plane = \"memory\"; };");
    CHECK_FALSE(director::lvs::ipvsTimeouts(none));
    const auto cfg = fixture::load(R"(global = { data_plane = "memory";
  userspace = { udp_flows = 100; udp_flows_per_source = 7; tcp_connections = 300; tcp_connections_per_source = 9;
                udp_unanswered_timeout = 4; tcp_progress_timeout = 30; source_prefix_v4 = 24; source_prefix_v6 = 48; };
  ipvs_timeouts = { tcp = 7200; udp = 60; }; };)");
    const auto l = director::lvs::forwardingLimits(cfg);
    CHECK((l.udpFlows == 100 && l.udpFlowsPerSource == 7 && l.udpUnansweredTimeout == 4));
    CHECK((l.tcpConnections == 300 && l.tcpConnectionsPerSource == 9 && l.tcpProgressTimeout == 30));
    CHECK((l.sourcePrefixV4 == 24 && l.sourcePrefixV6 == 48));
    const auto t = director::lvs::ipvsTimeouts(cfg);
    REQUIRE(t);
    CHECK(*t == kmod::Timeouts{7200, 0, 60});  // 0: the plane keeps its tcpfin

    kmod::memory::InMemoryIpvsTable table;
    const auto before = table.timeouts().value();
    director::lvs::applyPlaneSettings(table, none);
    CHECK(table.timeouts().value() == before);  // nothing set: the plane's own
    director::lvs::applyPlaneSettings(table, cfg);
    CHECK(table.timeouts().value().tcp == 7200);
    CHECK(table.timeouts().value().udp == 60);
}
