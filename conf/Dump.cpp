#include "conf/Dump.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace conf {
namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

// Shortest text that reads back as the same double.
std::string num(double v) {
    char buf[40];
    for (int prec = 6; prec <= 17; ++prec) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

class Out {
public:
    void line(const std::string& text) { os_ << std::string(static_cast<size_t>(depth_) * 2, ' ') << text << '\n'; }
    void set(const std::string& k, const std::string& v) { line(k + " = " + v + ";"); }
    void str(const std::string& k, const std::string& v) { set(k, quote(v)); }
    void boolean(const std::string& k, bool v) { set(k, v ? "true" : "false"); }
    void integer(const std::string& k, long long v) { set(k, std::to_string(v) + (v > 2147483647LL ? "L" : "")); }
    void seconds(const std::string& k, double v) { set(k, num(v)); }
    void command(const std::string& k, const Command& c) {
        if (!c.empty()) strings(k, c.argv);
    }
    void strings(const std::string& k, const std::vector<std::string>& v) {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : " ") + quote(v[i]);
        set(k, s + (v.empty() ? "]" : " ]"));
    }
    void open(const std::string& head) {
        line(head);
        ++depth_;
    }
    void close(const std::string& tail) {
        --depth_;
        line(tail);
    }
    std::string text() const { return os_.str(); }

private:
    std::ostringstream os_;
    int depth_ = 0;
};

void notify(Out& o, const NotifyConfig& n) {
    if (n == NotifyConfig{}) return;
    o.open("notify = {");
    o.command("master", n.master);
    o.command("backup", n.backup);
    o.command("fault", n.fault);
    o.command("stop", n.stop);
    o.command("generic", n.generic);
    o.close("};");
}

template <class T, class Fn>
void list(Out& o, const std::string& key, const std::vector<T>& items, Fn fn) {
    if (items.empty()) return;
    o.open(key + " = (");
    for (size_t i = 0; i < items.size(); ++i) {
        o.open("{");
        fn(items[i]);
        o.close(i + 1 < items.size() ? "}," : "}");
    }
    o.close(");");
}

void addresses(Out& o, const std::string& key, const std::vector<VirtualAddress>& v) {
    list(o, key, v, [&](const VirtualAddress& a) {
        o.str("address", a.prefix.str());
        if (!a.dev.empty()) o.str("dev", a.dev);
        o.str("scope", a.scope);
        if (!a.label.empty()) o.str("label", a.label);
    });
}

void global(Out& o, const GlobalConfig& g) {
    o.open("global = {");
    o.str("router_id", g.routerId);
    o.str("script_user", g.scriptUser);
    o.boolean("script_security", g.scriptSecurity);
    o.str("notify_fifo", g.notifyFifo);
    o.str("log_level", g.logLevel);
    o.str("log_target", g.logTarget == LogTarget::Syslog ? "syslog" : "stderr");
    o.str("pid_file", g.pidFile);
    o.str("control_socket", g.controlSocket);
    o.str("state_dump_file", g.stateDumpFile);
    o.str("data_plane", name(g.dataPlane));
    o.str("flush_on_stop", name(g.flushOnStop));
    o.seconds("resync_interval", g.resyncInterval);
    o.open("ipvs_timeouts = {");
    o.integer("tcp", g.ipvsTimeouts.tcp);
    o.integer("tcpfin", g.ipvsTimeouts.tcpFin);
    o.integer("udp", g.ipvsTimeouts.udp);
    o.close("};");
    if (g.syncDaemon.enabled || g.syncDaemon != SyncDaemonConfig{}) {
        const auto& s = g.syncDaemon;
        o.open("sync_daemon = {");
        o.boolean("enabled", s.enabled);
        o.str("interface", s.interface);
        o.integer("sync_id", s.syncId);
        o.str("group", s.group.str());
        o.integer("port", s.port);
        o.integer("ttl", s.ttl);
        o.integer("maxlen", s.maxlen);
        o.str("vrrp_instance", s.vrrpInstance);
        o.close("};");
    }
    o.open("snmp = {");
    o.boolean("enabled", g.snmp.enabled);
    o.str("agentx_socket", g.snmp.agentxSocket);
    o.strings("mibs", g.snmp.mibs);
    o.boolean("traps", g.snmp.traps);
    o.close("};");
    if (g.status.listen) {
        o.open("status = {");
        o.str("listen", g.status.listen->str());
        o.close("};");
    }
    o.close("};");
}

void instance(Out& o, const VrrpInstance& v) {
    o.str("name", v.name);
    o.str("interface", v.interface);
    o.integer("virtual_router_id", v.vrid);
    o.integer("priority", v.priority);
    o.seconds("advert_interval", v.advertInterval);
    o.integer("version", v.version);
    o.str("family", v.family == base::Family::V4 ? "ipv4" : "ipv6");
    o.str("state", v.initialMaster ? "MASTER" : "BACKUP");
    o.boolean("nopreempt", v.nopreempt);
    o.seconds("preempt_delay", v.preemptDelay);
    if (v.authType != AuthType::None) {
        o.open("authentication = {");
        o.str("type", name(v.authType));
        o.str("password", v.authPassword);
        o.close("};");
    }
    addresses(o, "virtual_addresses", v.virtualAddresses);
    addresses(o, "excluded_addresses", v.excludedAddresses);
    if (v.unicastSource) o.str("unicast_source", v.unicastSource->str());
    if (!v.unicastPeers.empty()) {
        std::vector<std::string> peers;
        for (const auto& p : v.unicastPeers) peers.push_back(p.str());
        o.strings("unicast_peers", peers);
    }
    list(o, "track_interfaces", v.trackInterfaces, [&](const TrackInterface& t) {
        o.str("interface", t.interface);
        o.integer("weight", t.weight);
    });
    list(o, "track_scripts", v.trackScripts, [&](const TrackScript& t) {
        o.str("script", t.script);
        if (t.weight) o.integer("weight", *t.weight);
    });
    o.open("garp = {");
    o.seconds("master_delay", v.garp.masterDelay);
    o.integer("master_repeat", v.garp.masterRepeat);
    o.seconds("master_refresh", v.garp.masterRefresh);
    o.integer("master_refresh_repeat", v.garp.masterRefreshRepeat);
    o.seconds("interval", v.garp.interval);
    o.close("};");
    notify(o, v.notify);
    o.boolean("accept_mode", v.acceptMode);
    o.str("v3_checksum", v.checksumPseudoHeader ? "with-pseudo-header" : "without-pseudo-header");
}

void check(Out& o, const CheckConfig& c) {
    o.str("type", name(c.type));
    if (c.delayLoop) o.seconds("delay_loop", *c.delayLoop);
    if (c.connectTimeout) o.seconds("connect_timeout", *c.connectTimeout);
    if (c.retry) o.integer("retry", *c.retry);
    if (c.delayBeforeRetry) o.seconds("delay_before_retry", *c.delayBeforeRetry);
    if (c.warmup) o.seconds("warmup", *c.warmup);
    o.integer("rise", c.rise);
    o.integer("fall", c.fall);
    if (c.connectIp) o.str("connect_ip", c.connectIp->str());
    if (c.connectPort) o.integer("connect_port", *c.connectPort);
    if (c.bindIp) o.str("bind_ip", c.bindIp->str());
    if (c.type == CheckType::Http || c.type == CheckType::Https) {
        o.str("path", c.path);
        std::string codes = "[";
        for (size_t i = 0; i < c.statusCodes.size(); ++i) {
            const auto& r = c.statusCodes[i];
            codes += (i ? ", " : " ") + (r.low == r.high ? std::to_string(r.low)
                                                         : quote(std::to_string(r.low) + "-" + std::to_string(r.high)));
        }
        // libconfig arrays hold one type: write every entry as a range string when they mix.
        bool mixed = false;
        for (const auto& r : c.statusCodes) mixed |= r.low != r.high;
        if (mixed) {
            codes = "[";
            for (size_t i = 0; i < c.statusCodes.size(); ++i)
                codes += (i ? ", " : " ") +
                         quote(std::to_string(c.statusCodes[i].low) + "-" + std::to_string(c.statusCodes[i].high));
        }
        o.set("status_codes", codes + " ]");
        if (!c.digest.empty()) o.str("digest", c.digest);
        if (!c.regex.empty()) o.str("regex", c.regex);
        o.boolean("regex_no_match", c.regexNoMatch);
        o.str("virtualhost", c.virtualhost);
        o.str("http_version", c.httpVersion);
        o.integer("max_body", c.maxBody);
        if (c.readTimeout) o.seconds("read_timeout", *c.readTimeout);
    }
    if (c.type == CheckType::Https) {
        o.str("sni", c.sni);
        o.boolean("verify", c.verify);
        o.str("ca_file", c.caFile);
        o.str("cert_file", c.certFile);
        o.str("key_file", c.keyFile);
    }
    if (c.type == CheckType::Script) {
        o.command("script", c.command);
        o.str("user", c.user);
        if (c.timeout) o.seconds("timeout", *c.timeout);
        o.boolean("dynamic_weight", c.dynamicWeight);
    }
}

void virtualServer(Out& o, const VirtualServer& vs) {
    if (vs.fwmark) {
        o.integer("fwmark", vs.fwmark);
        o.str("family", vs.family == base::Family::V4 ? "ipv4" : "ipv6");
    } else {
        o.str("address", vs.address ? vs.address->str() : "");
        o.integer("port", vs.port);
        o.str("protocol", vs.protocol);
    }
    o.str("scheduler", vs.scheduler);
    std::vector<std::string> flags;
    if (vs.schedFallback) flags.push_back("fallback");
    if (vs.schedPort) flags.push_back("port");
    if (!flags.empty()) o.strings("scheduler_flags", flags);
    o.str("forwarding", name(vs.forwarding));
    if (vs.forwarding == ForwardingMethod::Tun || vs.tunnel != Tunnel{}) {
        o.open("tunnel = {");
        o.str("type", name(vs.tunnel.type));
        o.integer("port", vs.tunnel.port);
        o.str("checksum", name(vs.tunnel.checksum));
        o.close("};");
    }
    o.integer("persistence_timeout", vs.persistenceTimeout);
    o.integer("persistence_netmask", vs.netmaskPrefix());
    if (!vs.persistenceEngine.empty()) o.str("persistence_engine", vs.persistenceEngine);
    o.boolean("one_packet", vs.onePacket);
    o.integer("quorum", vs.quorum);
    o.integer("hysteresis", vs.hysteresis);
    o.command("quorum_up", vs.quorumUp);
    o.command("quorum_down", vs.quorumDown);
    if (vs.sorryServer) {
        o.open("sorry_server = {");
        o.str("address", vs.sorryServer->address.str());
        o.integer("port", vs.sorryServer->port);
        o.integer("weight", vs.sorryServer->weight);
        if (vs.sorryServer->forwarding) o.str("forwarding", name(*vs.sorryServer->forwarding));
        o.close("};");
    }
    o.boolean("inhibit_on_failure", vs.inhibitOnFailure);
    o.boolean("alpha", vs.alpha);
    o.boolean("omega", vs.omega);
    o.boolean("ha_suspend", vs.haSuspend);
    o.str("virtualhost", vs.virtualhost);
    o.seconds("delay_loop", vs.delayLoop);
    o.seconds("connect_timeout", vs.connectTimeout);
    o.integer("retry", vs.retry);
    o.seconds("delay_before_retry", vs.delayBeforeRetry);
    o.seconds("warmup", vs.warmup);
    list(o, "real_servers", vs.realServers, [&](const RealServer& rs) {
        o.str("address", rs.address.str());
        o.integer("port", rs.port);
        o.integer("weight", rs.weight);
        o.integer("upper_threshold", rs.upperThreshold);
        o.integer("lower_threshold", rs.lowerThreshold);
        if (rs.forwarding) o.str("forwarding", name(*rs.forwarding));
        if (rs.inhibitOnFailure) o.boolean("inhibit_on_failure", *rs.inhibitOnFailure);
        o.command("notify_up", rs.notifyUp);
        o.command("notify_down", rs.notifyDown);
        list(o, "checks", rs.checks, [&](const CheckConfig& c) { check(o, c); });
    });
}

}  // namespace

std::string dump(const Config& cfg) {
    Out o;
    o.line("# canonical form of " + cfg.file + " (every default filled in)");
    global(o, cfg.global);
    list(o, "vrrp_scripts", cfg.vrrpScripts, [&](const VrrpScript& s) {
        o.str("name", s.name);
        o.command("script", s.command);
        o.seconds("interval", s.interval);
        o.seconds("timeout", s.timeout);
        o.integer("weight", s.weight);
        o.integer("rise", s.rise);
        o.integer("fall", s.fall);
        o.str("user", s.user);
    });
    list(o, "vrrp_instances", cfg.vrrpInstances, [&](const VrrpInstance& v) { instance(o, v); });
    list(o, "vrrp_sync_groups", cfg.syncGroups, [&](const SyncGroup& g) {
        o.str("name", g.name);
        o.strings("members", g.members);
        notify(o, g.notify);
    });
    list(o, "virtual_servers", cfg.virtualServers, [&](const VirtualServer& vs) { virtualServer(o, vs); });
    return o.text();
}

}  // namespace conf
