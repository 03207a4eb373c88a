#include "director/status/Snapshot.h"

#include <algorithm>
#include <map>

#include "conf/ToModel.h"

namespace director::status {

StatusReport statusReport(const Snapshot& s) {
    StatusReport r;
    r.pid = s.pid;
    r.version = s.version;
    r.configFile = s.cfg.file;
    r.dataPlane = s.dataPlane;
    r.reloads = s.reloads;
    r.resyncs = s.resyncs;
    r.driftRepairs = s.driftRepairs;
    r.now = s.now;
    std::map<lvs::RsId, double> latency;  // each real server's slowest last check attempt
    for (const auto& c : s.checks)
        if (c.lastLatencyMs) {
            auto [it, fresh] = latency.emplace(lvs::RsId{c.vs, c.rs}, *c.lastLatencyMs);
            if (!fresh) it->second = std::max(it->second, *c.lastLatencyMs);
        }
    for (const auto& inst : s.cfg.vrrpInstances) {
        InstanceRow row{inst.name, std::nullopt, ""};
        if (auto it = s.vrrp.find(inst.name); it != s.vrrp.end()) row.status = it->second;
        if (auto it = s.roles.find(inst.name); it != s.roles.end()) row.role = ::vrrp::stateName(it->second);
        r.instances.push_back(std::move(row));
    }
    r.syncDaemons = s.syncDaemons;
    r.announcing = s.announcing;
    r.announceTable = s.announceTable;
    r.withdrawn = s.withdrawn;
    for (const auto& a : s.announcements) r.announcements.push_back({a.vip.str(), a.announced, a.why});
    for (const auto& b : s.bfd)
        r.bfd.push_back({b.name, b.neighbor, healthcheck::bfd::name(b.state), healthcheck::bfd::name(b.remoteState),
                         healthcheck::bfd::name(b.diag), static_cast<double>(b.txInterval.count()) / 1000.0,
                         static_cast<double>(b.detectTime.count()) / 1000.0});
    if (s.bfdDrops)
        for (auto n : *s.bfdDrops) r.bfdDropped += n;
    for (const auto& vs : s.cfg.virtualServers) {
        const auto key = serviceKey(vs);
        ServiceRow sr;
        sr.vs = vs.str();
        sr.scheduler = vs.scheduler;
        sr.forwarding = conf::name(vs.forwarding);
        sr.quorum = vs.quorum;
        if (auto q = s.quorumUp.find(key); q != s.quorumUp.end()) sr.quorumUp = q->second;
        const kmod::ServiceEntry* entry = nullptr;
        if (s.table)
            if (auto it = s.table->services.find(key); it != s.table->services.end()) entry = &it->second;
        const kmod::ServiceStatus* ss = nullptr;
        if (s.status)
            if (auto it = s.status->find(key); it != s.status->end()) ss = &it->second;
        if (ss) sr.connections = ss->stats.conns;
        auto fill = [&](ServerRow& row, const kmod::DestKey& dk) {
            if (entry)
                if (auto d = entry->dests.find(dk); d != entry->dests.end()) row.applied = d->second.weight;
            if (ss)
                if (auto d = ss->dests.find(dk); d != ss->dests.end()) {
                    row.activeConns = d->second.activeConns;
                    row.inactiveConns = d->second.inactConns;
                    sr.activeConns += row.activeConns;
                    sr.inactiveConns += row.inactiveConns;
                }
        };
        for (const auto& rs : vs.realServers) {
            const kmod::DestKey dk{rs.address, static_cast<std::uint16_t>(rs.port)};
            const lvs::RsId id{key, dk};
            ServerRow row;
            row.rs = conf::realServerStr(rs);
            row.configuredWeight = rs.weight;
            row.checks = static_cast<int>(rs.checks.size());
            const auto h = s.health.servers.find(id);
            if (h != s.health.servers.end()) {
                row.up = h->second.up;
                row.failedChecks = h->second.failedChecks;
                if (h->second.weight) row.configuredWeight = *h->second.weight;
            }
            if (auto since = s.since ? s.since(id) : std::nullopt) {
                row.since = since->wallSeconds;
                row.why = since->why;
                if (!row.up && !since->transition) row.why = "down until its first successful check (alpha)";
            }
            if (!row.up && h != s.health.servers.end()) row.why = h->second.reason;
            if (auto d = s.disabledSince.find(id); d != s.disabledSince.end()) {
                row.disabled = true;
                row.since = d->second;
                row.why = "disabled by directorctl disable";
            } else if (auto e = s.enabledAt.find(id); e != s.enabledAt.end() && e->second >= row.since) {
                row.since = e->second;
                row.why = "enabled by directorctl";
            }
            fill(row, dk);
            if (auto l = latency.find(id); l != latency.end()) row.checkLatencyMs = l->second;
            if (auto ramp = s.health.ramp.find(id); ramp != s.health.ramp.end() && row.up && !row.disabled)
                row.ramp = ramp->second;
            sr.servers.push_back(std::move(row));
        }
        sr.liveWeight = liveWeight(vs, s.health);
        if (!sr.quorumUp && vs.sorryServer) {
            ServerRow row;
            row.sorry = true;
            const kmod::DestKey dk{vs.sorryServer->address, static_cast<std::uint16_t>(vs.sorryServer->port)};
            row.rs = dk.str();
            row.configuredWeight = vs.sorryServer->weight;
            row.why = "quorum lost";
            fill(row, dk);
            sr.servers.push_back(std::move(row));
        }
        r.services.push_back(std::move(sr));
    }
    return r;
}

}  // namespace director::status
