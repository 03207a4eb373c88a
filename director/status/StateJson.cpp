// The state as JSON, from one snapshot: what `directorctl status --json`, GET /status and the
// SIGUSR1 dump show. The table and its counters come from the same dump as the servers' rows.
#include "base/Json.h"
#include "director/status/Snapshot.h"
#include "director/status/StatusReport.h"

namespace director::status {
namespace {

void writeInstance(base::JsonWriter& w, const protocol::InstanceStatus& s) {
    w.beginObject();
    w.field("state", ::vrrp::stateName(s.state));
    w.field("interface", s.interface);
    w.field("vrid", s.vrid);
    w.field("version", s.version);
    w.field("family", s.family == base::Family::V4 ? "ipv4" : "ipv6");
    w.field("priority", s.priority);
    w.field("effective_priority", s.effectivePriority);
    if (s.state == ::vrrp::State::Master) w.field("master", "self");
    else if (s.masterSeen) w.field("master", s.masterSeen->str());
    else w.key("master").null();
    if (!s.syncGroup.empty()) w.field("sync_group", s.syncGroup);
    w.field("adverts_sent", s.advertsSent);
    w.field("adverts_received", s.advertsReceived);
    w.field("announcements_sent", s.announcementsSent);
    w.field("claims_heard", s.claimsHeard);
    w.field("claims_answered", s.claimsAnswered);
    w.field("transitions", s.transitions);
    if (s.lastTransition) w.field("last_transition", s.lastTransition);
    else w.key("last_transition").null();
    w.key("dropped").beginObject();
    std::uint64_t total = 0;
    for (size_t d = 0; d < s.drops.size(); ++d) {
        w.field(::vrrp::dropKey(static_cast<::vrrp::Drop>(d)), s.drops[d]);
        total += s.drops[d];
    }
    w.field("total", total);
    w.endObject();
    w.endObject();
}

void writeAnnounce(base::JsonWriter& w, const Snapshot& s) {
    w.beginObject();
    w.field("enabled", s.announcing);
    if (s.announcing) {
        w.field("table", s.announceTable);
        w.field("protocol", s.cfg.global.announce.protocol);
        w.field("withdrawn", s.withdrawn);
        w.key("vips").beginArray();
        for (const auto& a : s.announcements) {
            w.beginObject();
            w.field("vip", a.vip.str());
            w.field("announced", a.announced);
            w.field("why", a.why);
            w.endObject();
        }
        w.endArray();
    }
    w.endObject();
}

// BFD sessions as the engine runs them, and the packets it dropped by reason (RFC 5880 6.8.6's
// checks and ours).
void writeBfd(base::JsonWriter& w, const Snapshot& s) {
    namespace bfd = healthcheck::bfd;
    w.beginObject();
    w.key("sessions").beginArray();
    for (const auto& b : s.bfd) {
        w.beginObject();
        w.field("name", b.name);
        w.field("neighbor", b.neighbor);
        w.field("state", bfd::name(b.state));
        w.field("remote_state", bfd::name(b.remoteState));
        w.field("diagnostic", bfd::name(b.diag));
        w.field("local_discriminator", static_cast<std::uint64_t>(b.localDisc));
        w.field("remote_discriminator", static_cast<std::uint64_t>(b.remoteDisc));
        w.field("tx_interval_ms", static_cast<double>(b.txInterval.count()) / 1000.0);
        w.field("detect_time_ms", static_cast<double>(b.detectTime.count()) / 1000.0);
        w.field("transitions", b.transitions);
        w.field("sent", b.sent);
        w.field("received", b.received);
        w.endObject();
    }
    w.endArray();
    w.key("dropped").beginObject();
    std::uint64_t total = 0;
    for (std::size_t d = 1; d < static_cast<std::size_t>(bfd::Drop::Count); ++d) {
        const std::uint64_t n = s.bfdDrops ? (*s.bfdDrops)[d] : 0;
        w.field(bfd::name(static_cast<bfd::Drop>(d)), n);
        total += n;
    }
    w.field("total", total);
    w.endObject();
    w.endObject();
}

void writeForwarding(base::JsonWriter& w, const kmod::ForwardingCounters& f) {
    w.beginObject();
    w.field("udp_flows", f.udpFlows);
    w.field("udp_flows_limit", f.udpLimit);
    w.field("udp_flows_per_source", f.udpPerSource);
    w.field("udp_flows_refused", f.udpRefused);
    w.field("tcp_connections", f.tcpConnections);
    w.field("tcp_connections_limit", f.tcpLimit);
    w.field("tcp_connections_per_source", f.tcpPerSource);
    w.field("tcp_connections_refused", f.tcpRefused);
    w.endObject();
}

void writeDest(base::JsonWriter& w, const kmod::DestKey& dk, const kmod::Dest& d, const kmod::DestStatus* ds) {
    w.beginObject();
    w.field("address", dk.str());
    w.field("forwarding", kmod::forwardingName(d.forwarding));
    w.field("weight", d.weight);
    w.field("upper_threshold", d.upperThreshold);
    w.field("lower_threshold", d.lowerThreshold);
    if (ds) {
        w.field("active_conns", ds->activeConns);
        w.field("inactive_conns", ds->inactConns);
        w.field("persistent_conns", ds->persistConns);
        w.field("conns", ds->stats.conns);
        w.field("in_packets", ds->stats.inpkts);
        w.field("out_packets", ds->stats.outpkts);
        w.field("in_bytes", ds->stats.inbytes);
        w.field("out_bytes", ds->stats.outbytes);
        w.field("cps", ds->rates.cps);
        w.field("in_bps", ds->rates.inbps);
        w.field("out_bps", ds->rates.outbps);
    }
    w.endObject();
}

void writeTable(base::JsonWriter& w, const Snapshot& s) {
    w.beginArray();
    if (s.table)
        for (const auto& [key, e] : s.table->services) {
            const auto& svc = e.service;
            const kmod::ServiceStatus* ss = nullptr;
            if (s.status)
                if (auto it = s.status->find(key); it != s.status->end()) ss = &it->second;
            w.beginObject();
            w.field("service", key.str());
            w.field("owned", s.owned.contains(key));
            w.field("scheduler", svc.scheduler);
            w.field("flags", svc.flags);
            w.field("persistence_timeout", svc.timeout);
            w.field("netmask", svc.netmask);
            w.key("dests").beginArray();
            for (const auto& [dk, d] : e.dests) {
                const kmod::DestStatus* ds = nullptr;
                if (ss)
                    if (auto it = ss->dests.find(dk); it != ss->dests.end()) ds = &it->second;
                writeDest(w, dk, d, ds);
            }
            w.endArray();
            w.endObject();
        }
    w.endArray();
}

// The director's own health: since when it runs, its reloads, each worker's restarts.
void writeDirector(base::JsonWriter& w, const Snapshot& s) {
    w.beginObject();
    w.field("version", s.version);
    w.field("now", s.now);
    w.field("reloads", s.reloads);
    if (!s.director) {
        w.field("single_process", true);
        w.endObject();
        return;
    }
    const auto& d = *s.director;
    w.field("started", d.startedAt);
    w.field("reload_failures", d.reloadFailures);
    if (d.lastReloadAt) {
        w.key("last_reload").beginObject();
        w.field("at", d.lastReloadAt);
        w.field("ok", d.lastReloadOk);
        if (!d.lastReloadOk) w.field("error", d.lastReloadError);
        w.endObject();
    } else {
        w.key("last_reload").null();
    }
    w.key("workers").beginObject();
    for (const auto& r : d.workers) {
        w.key(r.name).beginObject();
        w.field("running", r.startedAt != 0);
        w.field("started", r.startedAt);
        w.field("restarts", r.restarts);
        w.endObject();
    }
    w.endObject();
    w.endObject();
}

}  // namespace

void writeVrrpJson(base::JsonWriter& w, const Snapshot& s) {
    w.beginObject();
    for (const auto& inst : s.cfg.vrrpInstances)
        if (auto it = s.vrrp.find(inst.name); it != s.vrrp.end()) {
            w.key(inst.name);
            writeInstance(w, it->second);
        }
    w.endObject();
}

std::string stateJson(const Snapshot& s) {
    base::JsonWriter w;
    w.beginObject();
    w.field("pid", s.pid);
    w.field("config_file", s.cfg.file);
    w.field("data_plane", s.dataPlane);
    w.field("reloads", s.reloads);
    w.field("resyncs", s.resyncs);
    w.field("drift_repairs", s.driftRepairs);
    if (s.transactions) w.field("table_transactions", *s.transactions);
    w.key("director");
    writeDirector(w, s);
    w.key("vrrp_roles").beginObject();
    for (const auto& [k, v] : s.roles) w.field(k, ::vrrp::stateName(v));
    w.endObject();
    w.key("vrrp");
    writeVrrpJson(w, s);
    w.key("servers");
    writeServersJson(w, statusReport(s));
    w.key("announce");
    writeAnnounce(w, s);
    w.key("sync").raw(s.syncJson.empty() ? "null" : s.syncJson);
    if (s.forwarding) {
        w.key("forwarding");
        writeForwarding(w, *s.forwarding);
    }
    w.key("checks").raw(s.checksJson.empty() ? "[]" : s.checksJson);
    w.key("bfd");
    writeBfd(w, s);
    w.key("table");
    writeTable(w, s);
    w.endObject();
    return w.str();
}

}  // namespace director::status
