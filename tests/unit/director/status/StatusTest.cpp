// The HTTP status listener's request handling and the Prometheus exposition, without sockets (the
// loopback test drives the listener itself with curl and promtool).
#include <catch2/catch.hpp>

#include "conf/Loader.h"
#include "director/status/Metrics.h"
#include "director/status/StatusPage.h"
#include "director/status/StatusServer.h"

namespace {

std::optional<director::status::HttpBody> paths(const std::string& p) {
    if (p == "/status") return director::status::HttpBody{"application/json", "{}\n"};
    return std::nullopt;
}

}  // namespace

TEST_CASE("status HTTP: GET and HEAD of a known path, 4xx for the rest") {
    using director::status::httpResponse;
    bool ok = false;
    const auto r = httpResponse("GET /status?x=1 HTTP/1.1\r\nHost: a\r\n", paths, &ok);
    CHECK(ok);
    CHECK(r.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(r.find("Content-Length: 3\r\n") != std::string::npos);
    CHECK(r.ends_with("\r\n\r\n{}\n"));
    CHECK(httpResponse("HEAD /status HTTP/1.0\r\n", paths).ends_with("\r\n\r\n"));
    CHECK(httpResponse("GET /other HTTP/1.1\r\n", paths).starts_with("HTTP/1.1 404 "));
    CHECK(httpResponse("POST /status HTTP/1.1\r\n", paths).starts_with("HTTP/1.1 405 "));
    CHECK(httpResponse("POST /status HTTP/1.1\r\n", paths).find("Allow: GET, HEAD") != std::string::npos);
    // the lvs worker did not answer in time (the status front's timeout): 503, and HEAD has no body
    const director::status::SyncHandler late = [](const std::string&) {
        director::status::HttpBody b;
        b.unavailable = true;
        return std::optional<director::status::HttpBody>(b);
    };
    CHECK(httpResponse("GET /status HTTP/1.1\r\n", late, &ok).starts_with("HTTP/1.1 503 "));
    CHECK_FALSE(ok);
    CHECK(httpResponse("HEAD /status HTTP/1.1\r\n", late).ends_with("\r\n\r\n"));
    for (const char* bad : {"", "GET\r\n", "GET /status\r\n", "GET /status HTTP/2\r\n", "GET status HTTP/1.1\r\n",
                            "GET  /status HTTP/1.1\r\n", "GET /st\x01tus HTTP/1.1\r\n", "GET /a HTTP/1.1 x\r\n"}) {
        INFO(bad);
        CHECK(httpResponse(bad, paths).starts_with("HTTP/1.1 400 "));
    }
}

TEST_CASE("metrics: families once each, labels escaped, health and the table in the samples") {
    auto r = conf::loadString(R"(
vrrp_instances = ( { name = "VI_\"1"; interface = "eth0"; virtual_router_id = 51; virtual_addresses = ( "10.0.0.10" ); } );
virtual_servers = (
  { address = "10.0.0.10"; port = 80; real_servers = ( { address = "10.0.1.1"; weight = 3; checks = ( { type = "tcp"; } ); },
                                                     { address = "10.0.1.2"; } ); },
  { fwmark = 7; real_servers = ( { address = "10.0.3.1"; } ); }
);)",
                              "t.conf");
    REQUIRE(r.ok());
    const auto& cfg = *r.config;
    std::map<std::string, vrrp::State> roles{{"VI_\"1", vrrp::State::Master}};
    std::map<std::string, director::protocol::InstanceStatus> vrrp;
    vrrp["VI_\"1"].drops[static_cast<size_t>(vrrp::Drop::BadTtl)] = 4;
    director::lvs::HealthView health;
    const auto key = director::lvs::serviceKey(cfg.virtualServers[0]);
    const auto& rs = cfg.virtualServers[0].realServers[0];
    health.servers[{key, {rs.address, static_cast<std::uint16_t>(rs.port)}}] = {false, std::nullopt, "refused", 1};
    std::map<kmod::ServiceKey, bool> quorum{{key, false}};
    const auto table = director::lvs::desiredTable(cfg, health);
    director::status::Snapshot v(cfg);
    v.roles = roles;
    v.vrrp = vrrp;
    v.health = health;
    v.quorumUp = quorum;
    v.table = table;
    v.reloads = 2;
    kmod::SyncStatus sync;
    sync.entriesReceived = 40;
    sync.lastLagMs = 3;
    sync.drops["bad_version"] = 2;
    v.sync = sync;
    const std::string text = director::status::metricsText(v);
    const std::string vs = "virtual_server=\"tcp/10.0.0.10:80\"";
    const std::string rs1 = vs + ",real_server=\"10.0.1.1:" + std::to_string(rs.port) + "\"";
    CHECK(text.find("directord_reloads_total 2\n") != std::string::npos);
    CHECK(text.find("directord_real_server_up{" + rs1 + "} 0\n") != std::string::npos);
    CHECK(text.find("directord_real_server_failed_checks{" + rs1 + "} 1\n") != std::string::npos);
    CHECK(text.find("directord_virtual_server_quorum_up{" + vs + "} 0\n") != std::string::npos);
    CHECK(text.find("directord_virtual_server_real_servers_up{" + vs + "} 1\n") != std::string::npos);
    CHECK(text.find("virtual_server=\"fwmark/7\"") != std::string::npos);
    CHECK(text.find("directord_vrrp_state{instance=\"VI_\\\"1\",state=\"MASTER\"} 1\n") != std::string::npos);
    CHECK(text.find("directord_vrrp_dropped_total{instance=\"VI_\\\"1\",reason=\"bad_ttl\"} 4\n") != std::string::npos);
    CHECK(text.find("directord_sync_entries_received_total 40\n") != std::string::npos);
    CHECK(text.find("directord_sync_lag_seconds 0.003\n") != std::string::npos);
    CHECK(text.find("directord_sync_dropped_total{reason=\"bad_version\"} 2\n") != std::string::npos);
    CHECK(text.find("process_open_fds ") != std::string::npos);
    v.syncSendsCounted = false;  // the kernel plane: its master counts nothing it sends
    const std::string kernel = director::status::metricsText(v);
    CHECK(kernel.find("directord_sync_messages_sent_total") == std::string::npos);
    CHECK(kernel.find("directord_sync_entries_received_total 40\n") != std::string::npos);
    // what the operator did shows too: a disabled real server, a slow start under way
    const auto& rs2 = cfg.virtualServers[0].realServers[1];
    const std::string rs2l = vs + ",real_server=\"10.0.1.2:" + std::to_string(rs2.port) + "\"";
    CHECK(text.find("directord_real_server_disabled{" + rs2l + "} 0\n") != std::string::npos);
    CHECK(text.find("directord_real_server_slow_start_ratio{") == std::string::npos);
    director::lvs::HealthView operated = health;
    operated.disabled.insert({key, {rs2.address, static_cast<std::uint16_t>(rs2.port)}});
    operated.ramp[{key, {rs.address, static_cast<std::uint16_t>(rs.port)}}] = 0.25;
    director::status::Snapshot ov = v;  // the same snapshot, with what the operator did
    ov.health = operated;
    const std::string op = director::status::metricsText(ov);
    CHECK(op.find("directord_real_server_disabled{" + rs2l + "} 1\n") != std::string::npos);
    CHECK(op.find("directord_real_server_disabled{" + rs1 + "} 0\n") != std::string::npos);
    CHECK(op.find("directord_real_server_slow_start_ratio{" + rs1 + "} 0.25\n") != std::string::npos);
    // the supervisor's record: absent in --single-process, its families when there is one
    CHECK(text.find("directord_worker_restarts_total") == std::string::npos);
    director::protocol::SupervisorStatsMsg sup;
    sup.startedAt = 1796643287;
    sup.reloadFailures = 3;
    sup.lastReloadAt = 1800000100;
    sup.lastReloadOk = false;
    sup.lastReloadError = "t.conf:4: broken";
    sup.workers = {{"lvs", 0, 1800000000}, {"vrrp", 2, 1800000050}};
    director::status::Snapshot sv = v;
    sv.director = sup;
    const std::string st = director::status::metricsText(sv);
    CHECK(st.find("directord_reload_failures_total 3\n") != std::string::npos);
    CHECK(st.find("directord_last_reload_successful 0\n") != std::string::npos);
    CHECK(st.find("directord_start_time_seconds 1796643287\n") != std::string::npos);
    CHECK(st.find("directord_worker_restarts_total{worker=\"lvs\"} 0\n") != std::string::npos);
    CHECK(st.find("directord_worker_restarts_total{worker=\"vrrp\"} 2\n") != std::string::npos);
    const std::string json = director::status::stateJson(sv);
    CHECK(json.find(R"("reload_failures":3,"last_reload":{"at":1800000100,"ok":false,"error":"t.conf:4: broken"})") !=
          std::string::npos);
    CHECK(json.find(R"("vrrp":{"running":true,"started":1800000050,"restarts":2})") != std::string::npos);
    CHECK(director::status::stateJson(v).find(R"("single_process":true)") != std::string::npos);
    // each family's HELP and TYPE exactly once
    size_t helps = 0;
    for (size_t at = 0; (at = text.find("# TYPE directord_real_server_up ", at)) != std::string::npos; ++at) ++helps;
    CHECK(helps == 1);
}

TEST_CASE("status page: its files are built in, and every answer keeps the page to its own origin") {
    using director::status::pageAsset;
    const auto* index = pageAsset("/");
    REQUIRE(index);
    CHECK(index->contentType == "text/html; charset=utf-8");
    CHECK(index->body.find("<script src=\"page.js\"></script>") != std::string_view::npos);
    CHECK(pageAsset("/index.html") == index);
    for (const char* p : {"/page.js", "/page.css", "/favicon.svg"}) {
        INFO(p);
        const auto* a = pageAsset(p);
        REQUIRE(a);
        CHECK(a->body.size() > 100);
    }
    CHECK(pageAsset("/page.js")->body.find("fetch(\"/status\"") != std::string_view::npos);
    CHECK(pageAsset("/page.js")->body.find("innerHTML") == std::string_view::npos);  // text nodes only
    CHECK(pageAsset("/nope") == nullptr);
    CHECK(pageAsset("/status") == nullptr);
    const auto r = director::status::httpResponse("GET / HTTP/1.1\r\n", paths);
    CHECK(r.find("Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n") != std::string::npos);
    CHECK(r.find("X-Content-Type-Options: nosniff\r\n") != std::string::npos);
}
