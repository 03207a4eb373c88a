#include "director/status/Metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "vrrp/Packet.h"

namespace director::status {
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
        : out_(out), name_(name), family_(name), type_(type), help_(help) {}
    void sample(const Labels& labels, double value) {
        if (!headed_) {  // HELP and TYPE once, before the first sample (a family with none is left out)
            headed_ = true;
            out_ += std::string("# HELP ") + family_ + " " + help_ + "\n# TYPE " + family_ + " " + type_ + "\n";
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
        const auto r = std::to_chars(buf, buf + sizeof buf, value);  // the shortest exact form
        out_.append(buf, r.ptr);
        out_ += '\n';
    }
    void sample(double value) { sample({}, value); }
    // A histogram's or summary's series: the family name with `suffix` (_bucket, _sum, _count).
    void sample(const char* suffix, const Labels& labels, double value) {
        const char* base = name_;
        const std::string full = std::string(name_) + suffix;
        name_ = full.c_str();
        sample(labels, value);
        name_ = base;
    }

private:
    std::string& out_;
    const char *name_, *family_, *type_, *help_;
    bool headed_ = false;
};

const kmod::DestStatus* destStatus(const Snapshot& v, const kmod::ServiceKey& k, const kmod::DestKey& d) {
    if (!v.status) return nullptr;
    auto s = v.status->find(k);
    if (s == v.status->end()) return nullptr;
    auto it = s->second.dests.find(d);
    return it == s->second.dests.end() ? nullptr : &it->second;
}

const kmod::Dest* applied(const Snapshot& v, const kmod::ServiceKey& k, const kmod::DestKey& d) {
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

void addVirtualServers(std::string& out, const Snapshot& v) {
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

void addRealServers(std::string& out, const Snapshot& v) {
    const auto all = realServers(v.cfg);
    auto health = [&](const Rs& r) -> const lvs::RsHealth* {
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
        Family f(out, "directord_real_server_disabled", "gauge",
                 "1 while the operator has it disabled (directorctl disable: weight 0, kept in the table)");
        for (const auto& r : all) f.sample(r.labels, v.health.disabled.contains({r.key, r.dest}) ? 1 : 0);
    }
    {
        Family f(out, "directord_real_server_slow_start_ratio", "gauge",
                 "while a slow start runs: the share of its weight in force (absent otherwise)");
        for (const auto& r : all)
            if (auto it = v.health.ramp.find({r.key, r.dest}); it != v.health.ramp.end()) f.sample(r.labels, it->second);
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

const char* failureKey(healthcheck::Failure f) {
    using healthcheck::Failure;
    switch (f) {
    case Failure::None: return "none";
    case Failure::Refused: return "refused";
    case Failure::Timeout: return "timeout";
    case Failure::Reset: return "reset";
    case Failure::Unreachable: return "unreachable";
    case Failure::TlsHandshake: return "tls_handshake";
    case Failure::HttpStatus: return "http_status";
    case Failure::HttpMalformed: return "http_malformed";
    case Failure::BodyTooLarge: return "body_too_large";
    case Failure::DigestMismatch: return "digest_mismatch";
    case Failure::Regex: return "regex";
    case Failure::Closed: return "closed";
    case Failure::ScriptExit: return "script_exit";
    case Failure::ScriptSignal: return "script_signal";
    case Failure::ScriptTimeout: return "script_timeout";
    case Failure::ScriptSpawn: return "script_spawn";
    case Failure::ReplyMismatch: return "reply_mismatch";
    case Failure::DnsRcode: return "dns_rcode";
    case Failure::SmtpReply: return "smtp_reply";
    case Failure::FileValue: return "file_value";
    case Failure::GrpcStatus: return "grpc_status";
    case Failure::GrpcNotServing: return "grpc_not_serving";
    case Failure::BfdDown: return "bfd_down";
    case Failure::Error: return "error";
    }
    return "unknown";
}

void addChecks(std::string& out, const Snapshot& v) {
    if (v.checks.empty()) return;
    std::map<kmod::ServiceKey, std::string> names;
    for (const auto& vs : v.cfg.virtualServers) names[serviceKey(vs)] = virtualServerLabel(vs);
    auto labels = [&](const lvs::HealthMonitor::CheckStats& c) {
        auto n = names.find(c.vs);
        return Labels{{"virtual_server", n == names.end() ? c.vs.str() : n->second},
                      {"real_server", c.rs.str()},
                      {"check", std::to_string(c.index)},
                      {"type", c.type}};
    };
    {
        Family f(out, "directord_check_latency_seconds", "histogram", "how long each check attempt took");
        for (const auto& c : v.checks) {
            const auto base = labels(c);
            std::uint64_t cumulative = 0;
            for (size_t b = 0; b < healthcheck::kLatencyBuckets; ++b) {
                cumulative += c.counters.latencyBucket[b];
                char le[32];
                if (b < std::size(healthcheck::kLatencyBounds))
                    std::snprintf(le, sizeof le, "%g", healthcheck::kLatencyBounds[b]);
                else
                    std::snprintf(le, sizeof le, "+Inf");
                Labels l = base;
                l.emplace_back("le", le);
                f.sample("_bucket", l, static_cast<double>(cumulative));
            }
            f.sample("_sum", base, c.counters.latencySeconds);
            f.sample("_count", base, static_cast<double>(cumulative));
        }
    }
    {
        Family f(out, "directord_check_attempts_total", "counter", "check attempts, retries included");
        for (const auto& c : v.checks) f.sample(labels(c), static_cast<double>(c.counters.attempts));
    }
    Family f(out, "directord_check_failures_total", "counter", "failed check attempts, by reason");
    for (const auto& c : v.checks)
        for (size_t k = 1; k < healthcheck::kFailureKinds; ++k)
            if (c.counters.failuresBy[k]) {
                Labels l = labels(c);
                l.emplace_back("reason", failureKey(static_cast<healthcheck::Failure>(k)));
                f.sample(l, static_cast<double>(c.counters.failuresBy[k]));
            }
}

void addVrrp(std::string& out, const Snapshot& v) {
    auto stateOf = [&](const conf::VrrpInstance& inst) {
        if (auto it = v.roles.find(inst.name); it != v.roles.end()) return it->second;
        if (auto it = v.vrrp.find(inst.name); it != v.vrrp.end()) return it->second.state;
        return ::vrrp::State::Init;
    };
    auto status = [&](const conf::VrrpInstance& inst) -> const protocol::InstanceStatus* {
        auto it = v.vrrp.find(inst.name);
        return it == v.vrrp.end() ? nullptr : &it->second;
    };
    {
        Family f(out, "directord_vrrp_state", "gauge", "1 for the VRRP instance's current state, 0 for the others");
        for (const auto& inst : v.cfg.vrrpInstances)
            for (auto s : {::vrrp::State::Init, ::vrrp::State::Backup, ::vrrp::State::Master, ::vrrp::State::Fault})
                f.sample({{"instance", inst.name}, {"state", ::vrrp::stateName(s)}}, stateOf(inst) == s ? 1 : 0);
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
        {"directord_vrrp_claims_heard_total", "other hosts' ARP claims of its addresses heard as master",
         &protocol::InstanceStatus::claimsHeard},
        {"directord_vrrp_claims_answered_total", "announcements answering those claims (garp defend)",
         &protocol::InstanceStatus::claimsAnswered},
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
                f.sample({{"instance", inst.name}, {"reason", ::vrrp::dropKey(static_cast<::vrrp::Drop>(d))}},
                         static_cast<double>(s->drops[d]));
}

void addSync(std::string& out, const Snapshot& v) {
    if (!v.sync) return;
    const auto& st = *v.sync;
    struct Counter {
        const char* name;
        const char* help;
        std::uint64_t kmod::SyncStatus::*field;
        bool sending;
    };
    static const Counter counters[] = {
        {"directord_sync_messages_sent_total", "sync datagrams sent", &kmod::SyncStatus::messagesSent, true},
        {"directord_sync_entries_sent_total", "connection entries sent", &kmod::SyncStatus::entriesSent, true},
        {"directord_sync_send_errors_total", "sync datagrams that could not be sent", &kmod::SyncStatus::sendErrors,
         true},
        {"directord_sync_queue_drops_total", "entries dropped from a full send queue", &kmod::SyncStatus::queueDrops,
         true},
        {"directord_sync_messages_received_total", "sync datagrams received", &kmod::SyncStatus::messagesReceived,
         false},
        {"directord_sync_entries_received_total", "connection entries received", &kmod::SyncStatus::entriesReceived,
         false},
        {"directord_sync_templates_installed_total", "persistence templates learned",
         &kmod::SyncStatus::templatesInstalled, false},
        {"directord_sync_connections_installed_total", "connections learned", &kmod::SyncStatus::connectionsInstalled,
         false},
        {"directord_sync_unbound_entries_total", "entries for no known virtual or real server",
         &kmod::SyncStatus::unbound, false},
        {"directord_sync_stale_entries_total", "entries older than what was already known", &kmod::SyncStatus::stale,
         false},
    };
    for (const auto& c : counters) {
        if (c.sending && !v.syncSendsCounted) continue;
        Family f(out, c.name, "counter", c.help);
        f.sample(static_cast<double>(st.*c.field));
    }
    {
        Family f(out, "directord_sync_dropped_total", "counter", "sync datagrams or entries dropped, by reason");
        for (const auto& [reason, n] : st.drops) f.sample({{"reason", reason}}, static_cast<double>(n));
    }
    if (v.syncSendsCounted) {
        Family f(out, "directord_sync_lag_seconds", "gauge",
                 "master: how long the last datagram's oldest entry waited before it was sent");
        f.sample(st.lastLagMs / 1000.0);
    }
    Family f(out, "directord_sync_connections", "gauge", "backup: learned connections in the table now");
    f.sample(st.syncedConnections);
}

// process_* as Prometheus' client libraries export them, from /proc/self.
void addProcess(std::string& out) {
    std::ifstream statFile("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return;
    std::istringstream rest(stat.substr(paren + 2));
    std::vector<std::string> f;
    for (std::string x; rest >> x;) f.push_back(x);
    // after "pid (comm) ": field 3 (state) is f[0]; utime 14, stime 15, starttime 22, rss 24
    if (f.size() < 22) return;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double cpu = (std::stod(f[11]) + std::stod(f[12])) / tick;
    double boot = 0;
    std::ifstream procStat("/proc/stat");
    for (std::string line; std::getline(procStat, line);)
        if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
    const double start = boot + std::stod(f[19]) / tick;
    const double rss = std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    size_t fds = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) fds += e->d_name[0] != '.';
        ::closedir(d);
        fds -= fds > 0;  // the directory's own descriptor
    }
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    Family(out, "process_cpu_seconds_total", "counter", "user and system CPU time of the lvs worker").sample(cpu);
    Family(out, "process_start_time_seconds", "gauge", "when the lvs worker started, since the epoch").sample(start);
    Family(out, "process_resident_memory_bytes", "gauge", "the lvs worker's resident memory").sample(rss);
    Family(out, "process_open_fds", "gauge", "the lvs worker's open descriptors").sample(static_cast<double>(fds));
    Family(out, "process_max_fds", "gauge", "its descriptor limit").sample(static_cast<double>(lim.rlim_cur));
}

}  // namespace

std::string virtualServerLabel(const conf::VirtualServer& vs) {
    if (vs.fwmark) return (vs.family == base::Family::V6 ? "fwmark6/" : "fwmark/") + std::to_string(vs.fwmark);
    if (!vs.address) return vs.protocol + "/?";
    return vs.protocol + "/" + kmod::DestKey{*vs.address, static_cast<std::uint16_t>(vs.port)}.str();
}

std::string metricsText(const Snapshot& v) {
    std::string out;
    {
        Family f(out, "directord_build_info", "gauge", "directord's version (the value is always 1)");
        f.sample({{"version", DIRECTORD_VERSION}}, 1);
    }
    if (v.announcing) {
        Family f(out, "directord_vip_announced", "gauge",
                 "1 while the VIP is in the announce table (global.announce), for the routing daemon to announce");
        for (const auto& a : v.announcements) f.sample({{"vip", a.vip.str()}}, a.announced ? 1 : 0);
    }
    if (!v.bfd.empty() || v.bfdDrops) {
        namespace bfd = healthcheck::bfd;
        auto labels = [](const healthcheck::BfdEngine::View& b) {
            return std::vector<std::pair<std::string, std::string>>{{"session", b.name}, {"neighbor", b.neighbor}};
        };
        {
            Family f(out, "directord_bfd_session_up", "gauge", "1 while the BFD session is Up");
            for (const auto& b : v.bfd) f.sample(labels(b), b.state == bfd::State::Up ? 1 : 0);
        }
        {
            Family f(out, "directord_bfd_session_transitions_total", "counter", "BFD session state changes");
            for (const auto& b : v.bfd) f.sample(labels(b), static_cast<double>(b.transitions));
        }
        {
            Family f(out, "directord_bfd_detect_time_seconds", "gauge",
                     "the BFD session's detection time in force (remote Detect Mult x the agreed interval)");
            for (const auto& b : v.bfd) f.sample(labels(b), static_cast<double>(b.detectTime.count()) / 1e6);
        }
        {
            Family f(out, "directord_bfd_packets_sent_total", "counter", "BFD control packets sent");
            for (const auto& b : v.bfd) f.sample(labels(b), static_cast<double>(b.sent));
        }
        {
            Family f(out, "directord_bfd_packets_received_total", "counter", "BFD control packets accepted");
            for (const auto& b : v.bfd) f.sample(labels(b), static_cast<double>(b.received));
        }
        {
            Family f(out, "directord_bfd_packets_dropped_total", "counter",
                     "BFD datagrams dropped, by reason (RFC 5880 6.8.6's checks, no session, TTL)");
            for (std::size_t d = 1; d < static_cast<std::size_t>(bfd::Drop::Count); ++d)
                f.sample({{"reason", bfd::name(static_cast<bfd::Drop>(d))}},
                         static_cast<double>(v.bfdDrops ? (*v.bfdDrops)[d] : 0));
        }
    }
    {
        Family f(out, "directord_reloads_total", "counter", "configurations applied by SIGHUP or directorctl reload");
        f.sample(static_cast<double>(v.reloads));
    }
    if (v.director) {
        const auto& d = *v.director;
        Family(out, "directord_start_time_seconds", "gauge", "when the director (its supervisor) started, since the epoch")
            .sample(static_cast<double>(d.startedAt));
        Family(out, "directord_reload_failures_total", "counter",
               "reloads refused (the file has errors, or a change needs a restart); the running config stayed")
            .sample(static_cast<double>(d.reloadFailures));
        Family(out, "directord_last_reload_successful", "gauge", "0 when the last reload tried was refused")
            .sample(d.lastReloadOk ? 1 : 0);
        Family f(out, "directord_worker_restarts_total", "counter",
                 "a worker's restarts by the supervisor (it died or hung) since the director started");
        for (const auto& r : d.workers) f.sample({{"worker", r.name}}, static_cast<double>(r.restarts));
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
    addChecks(out, v);
    addVrrp(out, v);
    addSync(out, v);
    if (v.process) addProcess(out);
    return out;
}

}  // namespace director::status
