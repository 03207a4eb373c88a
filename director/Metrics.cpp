#include "director/Metrics.h"

#include <cstdio>
#include <vector>

#include "vrrp/Packet.h"

namespace director {
namespace {

// Label values: backslash, double quote and newline escaped.
std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\') o += "\\\\";
        else if (c == '"') o += "\\\"";
        else if (c == '\n') o += "\\n";
        else o += c;
    }
    return o;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric family: HELP and TYPE once, then its samples.
class Family {
public:
    Family(std::string& out, const char* name, const char* type, const char* help)
        : out_(out), name_(name), type_(type), help_(help) {}
    void sample(const Labels& labels, double value) {
        if (!headed_) {  // HELP and TYPE once, before the first sample (a family with none is left out)
            headed_ = true;
            out_ += std::string("# HELP ") + name_ + " " + help_ + "\n# TYPE " + name_ + " " + type_ + "\n";
        }
        out_ += name_;
        if (!labels.empty()) {
            out_ += '{';
            for (size_t i = 0; i < labels.size(); ++i) {
                if (i) out_ += ',';
                out_ += labels[i].first + "=\"" + escape(labels[i].second) + '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", value);
        out_ += buf;
        out_ += '\n';
    }
    void sample(double value) { sample({}, value); }

private:
    std::string& out_;
    const char *name_, *type_, *help_;
    bool headed_ = false;
};

const kmod::DestStatus* destStatus(const MetricsView& v, const kmod::ServiceKey& k, const kmod::DestKey& d) {
    if (!v.status) return nullptr;
    auto s = v.status->find(k);
    if (s == v.status->end()) return nullptr;
    auto it = s->second.dests.find(d);
    return it == s->second.dests.end() ? nullptr : &it->second;
}

const kmod::Dest* applied(const MetricsView& v, const kmod::ServiceKey& k, const kmod::DestKey& d) {
    if (!v.table) return nullptr;
    auto s = v.table->services.find(k);
    if (s == v.table->services.end()) return nullptr;
    auto it = s->second.dests.find(d);
    return it == s->second.dests.end() ? nullptr : &it->second;
}

struct Rs {
    const conf::VirtualServer* vs;
    const conf::RealServer* rs;
    kmod::ServiceKey key;
    kmod::DestKey dest;
    Labels labels;
};

std::vector<Rs> realServers(const conf::Config& cfg) {
    std::vector<Rs> out;
    for (const auto& vs : cfg.virtualServers)
        for (const auto& rs : vs.realServers) {
            const kmod::DestKey dk{rs.address, static_cast<std::uint16_t>(rs.port)};
            out.push_back({&vs, &rs, serviceKey(vs), dk, {{"virtual_server", virtualServerLabel(vs)}, {"real_server", dk.str()}}});
        }
    return out;
}

void addVirtualServers(std::string& out, const MetricsView& v) {
    const auto& cfg = v.cfg;
    auto vsLabels = [](const conf::VirtualServer& vs) { return Labels{{"virtual_server", virtualServerLabel(vs)}}; };
    {
        Family f(out, "directord_virtual_server_quorum_up", "gauge",
                 "1 while the virtual server has quorum (its live real servers' weight reaches quorum)");
        for (const auto& vs : cfg.virtualServers) {
            auto it = v.quorumUp.find(serviceKey(vs));
            f.sample(vsLabels(vs), it == v.quorumUp.end() || it->second ? 1 : 0);
        }
    }
    {
        Family f(out, "directord_virtual_server_real_servers", "gauge", "real servers configured");
        for (const auto& vs : cfg.virtualServers) f.sample(vsLabels(vs), static_cast<double>(vs.realServers.size()));
    }
    {
        Family f(out, "directord_virtual_server_real_servers_up", "gauge", "real servers whose checks pass");
        for (const auto& vs : cfg.virtualServers) {
            size_t up = 0;
            for (const auto& rs : vs.realServers) {
                auto h = v.health.servers.find({serviceKey(vs), {rs.address, static_cast<std::uint16_t>(rs.port)}});
                up += h == v.health.servers.end() || h->second.up;
            }
            f.sample(vsLabels(vs), static_cast<double>(up));
        }
    }
    struct Counter {
        const char* name;
        const char* help;
        std::uint64_t kmod::StatsCounters::*field;
    };
    static const Counter counters[] = {
        {"directord_virtual_server_connections_total", "connections scheduled", &kmod::StatsCounters::conns},
        {"directord_virtual_server_in_packets_total", "packets from clients", &kmod::StatsCounters::inpkts},
        {"directord_virtual_server_out_packets_total", "packets to clients", &kmod::StatsCounters::outpkts},
        {"directord_virtual_server_in_bytes_total", "bytes from clients", &kmod::StatsCounters::inbytes},
        {"directord_virtual_server_out_bytes_total", "bytes to clients", &kmod::StatsCounters::outbytes},
    };
    for (const auto& c : counters) {
        Family f(out, c.name, "counter", c.help);
        if (!v.status) continue;
        for (const auto& vs : cfg.virtualServers)
            if (auto s = v.status->find(serviceKey(vs)); s != v.status->end())
                f.sample(vsLabels(vs), static_cast<double>(s->second.stats.*c.field));
    }
}

void addRealServers(std::string& out, const MetricsView& v) {
    const auto all = realServers(v.cfg);
    auto health = [&](const Rs& r) -> const RsHealth* {
        auto h = v.health.servers.find({r.key, r.dest});
        return h == v.health.servers.end() ? nullptr : &h->second;
    };
    {
        Family f(out, "directord_real_server_up", "gauge", "1 while the real server's checks pass (no checks: 1)");
        for (const auto& r : all) f.sample(r.labels, !health(r) || health(r)->up ? 1 : 0);
    }
    {
        Family f(out, "directord_real_server_weight", "gauge",
                 "the weight applied in the data plane's table (0: quiesced; absent: not in the table)");
        for (const auto& r : all)
            if (const auto* d = applied(v, r.key, r.dest)) f.sample(r.labels, d->weight);
    }
    {
        Family f(out, "directord_real_server_failed_checks", "gauge", "how many of the real server's checks fail");
        for (const auto& r : all) f.sample(r.labels, health(r) ? health(r)->failedChecks : 0);
    }
    {
        Family f(out, "directord_real_server_active_connections", "gauge", "established connections");
        for (const auto& r : all)
            if (const auto* d = destStatus(v, r.key, r.dest)) f.sample(r.labels, static_cast<double>(d->activeConns));
    }
    {
        Family f(out, "directord_real_server_inactive_connections", "gauge", "connections not established");
        for (const auto& r : all)
            if (const auto* d = destStatus(v, r.key, r.dest)) f.sample(r.labels, static_cast<double>(d->inactConns));
    }
    struct Counter {
        const char* name;
        const char* help;
        std::uint64_t kmod::StatsCounters::*field;
    };
    static const Counter counters[] = {
        {"directord_real_server_connections_total", "connections scheduled to it", &kmod::StatsCounters::conns},
        {"directord_real_server_in_packets_total", "packets from clients", &kmod::StatsCounters::inpkts},
        {"directord_real_server_out_packets_total", "packets to clients", &kmod::StatsCounters::outpkts},
        {"directord_real_server_in_bytes_total", "bytes from clients", &kmod::StatsCounters::inbytes},
        {"directord_real_server_out_bytes_total", "bytes to clients", &kmod::StatsCounters::outbytes},
    };
    for (const auto& c : counters) {
        Family f(out, c.name, "counter", c.help);
        for (const auto& r : all)
            if (const auto* d = destStatus(v, r.key, r.dest)) f.sample(r.labels, static_cast<double>(d->stats.*c.field));
    }
}

void addVrrp(std::string& out, const MetricsView& v) {
    auto stateOf = [&](const conf::VrrpInstance& inst) {
        if (auto it = v.roles.find(inst.name); it != v.roles.end()) return it->second;
        if (auto it = v.vrrp.find(inst.name); it != v.vrrp.end()) return it->second.state;
        return vrrp::State::Init;
    };
    auto status = [&](const conf::VrrpInstance& inst) -> const protocol::InstanceStatus* {
        auto it = v.vrrp.find(inst.name);
        return it == v.vrrp.end() ? nullptr : &it->second;
    };
    {
        Family f(out, "directord_vrrp_state", "gauge", "1 for the VRRP instance's current state, 0 for the others");
        for (const auto& inst : v.cfg.vrrpInstances)
            for (auto s : {vrrp::State::Init, vrrp::State::Backup, vrrp::State::Master, vrrp::State::Fault})
                f.sample({{"instance", inst.name}, {"state", vrrp::stateName(s)}}, stateOf(inst) == s ? 1 : 0);
    }
    {
        Family f(out, "directord_vrrp_priority", "gauge", "configured priority");
        for (const auto& inst : v.cfg.vrrpInstances) f.sample({{"instance", inst.name}}, inst.priority);
    }
    {
        Family f(out, "directord_vrrp_effective_priority", "gauge", "priority after tracking (interfaces, scripts)");
        for (const auto& inst : v.cfg.vrrpInstances) {
            const auto* s = status(inst);
            f.sample({{"instance", inst.name}}, s ? s->effectivePriority : inst.priority);
        }
    }
    struct Counter {
        const char* name;
        const char* help;
        std::uint64_t protocol::InstanceStatus::*field;
    };
    static const Counter counters[] = {
        {"directord_vrrp_transitions_total", "state changes", &protocol::InstanceStatus::transitions},
        {"directord_vrrp_master_transitions_total", "times it became master",
         &protocol::InstanceStatus::masterTransitions},
        {"directord_vrrp_adverts_sent_total", "advertisements sent", &protocol::InstanceStatus::advertsSent},
        {"directord_vrrp_adverts_received_total", "valid advertisements received",
         &protocol::InstanceStatus::advertsReceived},
        {"directord_vrrp_announcements_sent_total", "gratuitous ARPs and unsolicited neighbour advertisements sent",
         &protocol::InstanceStatus::announcementsSent},
    };
    for (const auto& c : counters) {
        Family f(out, c.name, "counter", c.help);
        for (const auto& inst : v.cfg.vrrpInstances)
            if (const auto* s = status(inst)) f.sample({{"instance", inst.name}}, static_cast<double>(s->*c.field));
    }
    Family f(out, "directord_vrrp_dropped_total", "counter", "packets dropped, by reason");
    for (const auto& inst : v.cfg.vrrpInstances)
        if (const auto* s = status(inst))
            for (size_t d = 0; d < s->drops.size(); ++d)
                f.sample({{"instance", inst.name}, {"reason", vrrp::dropKey(static_cast<vrrp::Drop>(d))}},
                         static_cast<double>(s->drops[d]));
}

}  // namespace

std::string virtualServerLabel(const conf::VirtualServer& vs) {
    if (vs.fwmark) return (vs.family == base::Family::V6 ? "fwmark6/" : "fwmark/") + std::to_string(vs.fwmark);
    if (!vs.address) return vs.protocol + "/?";
    return vs.protocol + "/" + kmod::DestKey{*vs.address, static_cast<std::uint16_t>(vs.port)}.str();
}

std::string metricsText(const MetricsView& v) {
    std::string out;
    {
        Family f(out, "directord_build_info", "gauge", "directord's version (the value is always 1)");
        f.sample({{"version", DIRECTORD_VERSION}}, 1);
    }
    {
        Family f(out, "directord_reloads_total", "counter", "configurations applied by SIGHUP or directorctl reload");
        f.sample(static_cast<double>(v.reloads));
    }
    {
        Family f(out, "directord_resyncs_total", "counter", "periodic comparisons of the table with the wanted one");
        f.sample(static_cast<double>(v.resyncs));
    }
    {
        Family f(out, "directord_drift_repairs_total", "counter",
                 "changes made because the table had drifted (someone else edited it)");
        f.sample(static_cast<double>(v.driftRepairs));
    }
    {
        Family f(out, "directord_http_requests_total", "counter", "requests answered by this listener");
        f.sample(static_cast<double>(v.httpRequests));
    }
    addVirtualServers(out, v);
    addRealServers(out, v);
    addVrrp(out, v);
    return out;
}

}  // namespace director
