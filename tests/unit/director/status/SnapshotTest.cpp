// One snapshot, four views: directorctl's table, its JSON (what /status embeds), /metrics and the
// KEEPALIVED-MIB show the same real server the same way: down, disabled by the operator, or in its
// slow start, with the weight the table has.
#include <catch2/catch.hpp>

#include "unit/director/ConfigFixture.h"

#include "base/Json.h"
#include "director/status/Metrics.h"
#include "director/status/SnmpTables.h"
#include "director/status/Snapshot.h"

using fixture::load;
using fixture::rsId;
using snmp::operator+;

TEST_CASE("one snapshot: a down, a disabled and a ramping real server alike in every view") {
    const auto cfg = load(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; slow_start = 10;
  real_servers = ( { address = "10.0.1.1"; weight = 4; checks = ( { type = "tcp"; } ); },
                   { address = "10.0.1.2"; weight = 4; }, { address = "10.0.1.3"; weight = 4; } ); } );)");
    director::status::Snapshot s(cfg);
    s.now = 1'000'000;
    s.health.servers[rsId(cfg, 0, 0)] = director::lvs::RsHealth{false, std::nullopt, "connection refused", 1};
    s.health.disabled.insert(rsId(cfg, 0, 1));
    s.disabledSince[rsId(cfg, 0, 1)] = s.now - 30;
    s.health.ramp[rsId(cfg, 0, 2)] = 0.5;
    s.table = director::lvs::desiredTable(cfg, s.health);
    s.quorumUp[conf::serviceKey(cfg.virtualServers[0])] = true;

    // directorctl servers
    const auto report = director::status::statusReport(s);
    const std::string table = director::status::renderServers(report);
    INFO(table);
    CHECK(table.find("10.0.1.1:80  DOWN ") != std::string::npos);
    CHECK(table.find("10.0.1.2:80  DISABLED ") != std::string::npos);
    CHECK(table.find("10.0.1.3:80  UP,SLOW-START  2/4") != std::string::npos);
    CHECK(table.find("connection refused") != std::string::npos);
    CHECK(director::status::renderStatus(report).find("1 of 3 up, 1 disabled") != std::string::npos);

    // directorctl servers --json, /status
    base::JsonWriter w;
    director::status::writeServersJson(w, report);
    const std::string json = w.str();
    INFO(json);
    CHECK(json.find(R"("real_server":"10.0.1.1:80","state":"DOWN","up":false,"disabled":false)") != std::string::npos);
    CHECK(json.find(R"("real_server":"10.0.1.2:80","state":"DISABLED","up":true,"disabled":true)") != std::string::npos);
    CHECK(json.find(R"("slow_start_share":0.5)") != std::string::npos);

    // /metrics
    s.process = false;
    const std::string metrics = director::status::metricsText(s);
    const std::string vs = "virtual_server=\"tcp/10.0.0.1:80\",real_server=";
    INFO(metrics);
    CHECK(metrics.find("directord_real_server_up{" + vs + "\"10.0.1.1:80\"} 0\n") != std::string::npos);
    CHECK(metrics.find("directord_real_server_disabled{" + vs + "\"10.0.1.2:80\"} 1\n") != std::string::npos);
    CHECK(metrics.find("directord_real_server_slow_start_ratio{" + vs + "\"10.0.1.3:80\"} 0.5\n") != std::string::npos);

    // KEEPALIVED-MIB realServerTable: status (alive 1, dead 2) and weight
    snmp::MibTree mib;
    director::status::mib::addKeepalived(mib, s);
    const snmp::Oid rs{1, 3, 6, 1, 4, 1, 9586, 100, 5, 3, 4, 1};
    auto get = [&](std::uint32_t column, std::uint32_t n) {
        const auto* v = mib.get(rs + snmp::Oid{column, 1, n});
        REQUIRE(v);
        return v->integer;
    };
    CHECK(get(6, 1) == 2);  // down
    CHECK(get(6, 2) == 1);  // disabled, alive
    CHECK(get(7, 2) == 0);  // ... at weight 0
    CHECK(get(6, 3) == 1);
    CHECK(get(7, 3) == 2);  // half of 4, as in the table
}
