#include "conf/Loader.h"

#include <regex.h>
#include <libconfig.h++>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "conf/Reader.h"
#include "conf/Validate.h"

namespace conf {
namespace {

constexpr double kDay = 86400;

// Calls fn for each group of the list `key`.
template <class Fn>
void eachGroup(Reader& parent, const char* key, const std::string& section, Fn fn) {
    const libconfig::Setting* list = parent.find(key);
    if (!list) return;
    if (!list->isList() && !(list->isArray() && list->getLength() == 0)) {
        parent.error(*list, parent.childPath(key),
                     std::string("expected a list of groups ( {...}, {...} ), got ") + typeName(*list));
        return;
    }
    for (int i = 0; i < list->getLength(); ++i) {
        const libconfig::Setting& g = (*list)[i];
        const std::string path = parent.childPath(key) + "[" + std::to_string(i) + "]";
        if (!g.isGroup()) {
            parent.error(g, path, "expected a group { ... }, got " + typeName(g));
            continue;
        }
        Reader r(parent.diags(), g, path, section, parent.fallbackFile());
        fn(r);
        r.finish();
    }
}

template <class Fn>
void subGroup(Reader& parent, const char* key, const std::string& section, Fn fn) {
    const libconfig::Setting* g = parent.find(key);
    if (!g) return;
    if (!g->isGroup()) {
        parent.error(*g, parent.childPath(key), "expected a group { ... }, got " + typeName(*g));
        return;
    }
    Reader r(parent.diags(), *g, parent.childPath(key), section, parent.fallbackFile());
    fn(r);
    r.finish();
}

void readGlobal(Reader& r, GlobalConfig& g) {
    r.get("router_id", g.routerId);
    r.get("script_user", g.scriptUser, false);
    r.get("script_security", g.scriptSecurity);
    r.get("notify_fifo", g.notifyFifo);
    if (const auto* s = r.find("log_level")) {
        std::string lvl;
        if (r.get("log_level", lvl)) {
            if (lvl == "debug" || lvl == "info" || lvl == "notice" || lvl == "warning" || lvl == "error")
                g.logLevel = lvl;
            else
                r.error(*s, r.childPath("log_level"),
                        "'" + lvl + "' is not one of: debug, info, notice, warning, error");
        }
    }
    r.choice("log_target", g.logTarget, {{"stderr", LogTarget::Stderr}, {"syslog", LogTarget::Syslog}});
    r.get("pid_file", g.pidFile, false);
    r.get("control_socket", g.controlSocket, false);
    r.get("state_dump_file", g.stateDumpFile, false);
    r.choice("data_plane", g.dataPlane,
             {{"auto", DataPlane::Auto},
              {"kernel", DataPlane::Kernel},
              {"userspace", DataPlane::Userspace},
              {"memory", DataPlane::Memory}});
    r.choice("flush_on_stop", g.flushOnStop,
             {{"created", FlushOnStop::Created}, {"all", FlushOnStop::All}, {"none", FlushOnStop::None}});
    r.seconds("resync_interval", g.resyncInterval, 1, kDay);
    subGroup(r, "ipvs_timeouts", "global.ipvs_timeouts", [&](Reader& t) {
        t.get("tcp", g.ipvsTimeouts.tcp, 0, 2147483);
        t.get("tcpfin", g.ipvsTimeouts.tcpFin, 0, 2147483);
        t.get("udp", g.ipvsTimeouts.udp, 0, 2147483);
    });
    subGroup(r, "sync_daemon", "global.sync_daemon", [&](Reader& s) {
        SyncDaemonConfig& d = g.syncDaemon;
        d.enabled = true;
        d.where = s.location();
        s.get("enabled", d.enabled);
        s.require("interface");
        s.get("interface", d.interface, false);
        s.get("sync_id", d.syncId, 0, 255);
        if (const auto* st = s.find("group")) {
            base::IpAddress a;
            if (s.get("group", a)) {
                if (!a.isMulticast()) s.error(*st, s.childPath("group"), a.str() + " is not a multicast address");
                else d.group = a;
            }
        }
        s.get("port", d.port, 1, 65535);
        s.get("ttl", d.ttl, 1, 255);
        s.get("maxlen", d.maxlen, 0, 65507);
        s.get("vrrp_instance", d.vrrpInstance);
    });
    subGroup(r, "snmp", "global.snmp", [&](Reader& s) {
        SnmpConfig& c = g.snmp;
        c.enabled = true;
        s.get("enabled", c.enabled);
        s.get("agentx_socket", c.agentxSocket, false);
        if (const auto* st = s.find("mibs")) {
            std::vector<std::string> mibs;
            if (s.get("mibs", mibs)) {
                bool good = true;
                for (const auto& m : mibs)
                    if (m != "keepalived" && m != "vrrp" && m != "vrrpv3") {
                        s.error(*st, s.childPath("mibs"), "unknown MIB '" + m + "' (known: keepalived, vrrp, vrrpv3)");
                        good = false;
                    }
                if (good) c.mibs = mibs;
            }
        }
        s.get("traps", c.traps);
    });
    subGroup(r, "status", "global.status", [&](Reader& s) {
        if (const auto* st = s.find("listen")) {
            std::string text;
            if (s.get("listen", text)) {
                if (auto a = base::SocketAddress::parse(text)) g.status.listen = *a;
                else s.error(*st, s.childPath("listen"), "'" + text + "' is not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)");
            }
        }
    });
}

void readScript(Reader& r, VrrpScript& s) {
    s.where = r.location();
    r.require("name");
    r.get("name", s.name, false);
    r.require("script");
    r.get("script", s.command);
    r.seconds("interval", s.interval, 0.01, kDay);
    r.seconds("timeout", s.timeout, 0.01, kDay);
    r.get("weight", s.weight, -253, 253);
    r.get("rise", s.rise, 1, 1000);
    r.get("fall", s.fall, 1, 1000);
    r.get("user", s.user);
}

void readVirtualAddresses(Reader& r, const char* key, const std::string& section, std::vector<VirtualAddress>& out) {
    const libconfig::Setting* list = r.find(key);
    if (!list) return;
    if (!list->isList() && !list->isArray()) {
        r.error(*list, r.childPath(key), "expected a list of addresses, got " + typeName(*list));
        return;
    }
    for (int i = 0; i < list->getLength(); ++i) {
        const libconfig::Setting& e = (*list)[i];
        const std::string path = r.childPath(key) + "[" + std::to_string(i) + "]";
        VirtualAddress va;
        auto parsePrefix = [&](const libconfig::Setting& st, const std::string& p, const std::string& text) {
            auto pf = base::IpPrefix::parse(text);
            if (!pf) r.error(st, p, "'" + text + "' is not an address or address/prefix");
            else va.prefix = *pf;
            return pf.has_value();
        };
        if (e.getType() == libconfig::Setting::TypeString) {
            if (parsePrefix(e, path, static_cast<const char*>(e))) out.push_back(va);
        } else if (e.isGroup()) {
            Reader g(r.diags(), e, path, section, r.fallbackFile());
            g.require("address");
            std::string text;
            bool good = false;
            if (const auto* st = g.find("address"); st && g.get("address", text))
                good = parsePrefix(*st, g.childPath("address"), text);
            g.get("dev", va.dev);
            if (const auto* st = g.find("scope")) {
                std::string scope;
                if (g.get("scope", scope)) {
                    if (scope == "global" || scope == "site" || scope == "link" || scope == "host" ||
                        scope == "nowhere")
                        va.scope = scope;
                    else
                        g.error(*st, g.childPath("scope"),
                                "'" + scope + "' is not one of: global, site, link, host, nowhere");
                }
            }
            if (const auto* st = g.find("label"); st && g.get("label", va.label) && va.label.size() > 15)
                g.error(*st, g.childPath("label"), "a label has at most 15 characters");
            g.finish();
            if (good) out.push_back(va);
        } else {
            r.error(e, path, "expected an address string or a group { address = ...; }, got " + typeName(e));
        }
    }
}

void readNotify(Reader& parent, const std::string& section, NotifyConfig& n) {
    subGroup(parent, "notify", section, [&](Reader& r) {
        r.get("master", n.master);
        r.get("backup", n.backup);
        r.get("fault", n.fault);
        r.get("stop", n.stop);
        r.get("generic", n.generic);
    });
}

void readInstance(Reader& r, VrrpInstance& v) {
    v.where = r.location();
    r.require("name");
    r.get("name", v.name, false);
    r.require("interface");
    r.get("interface", v.interface, false);
    r.require("virtual_router_id");
    r.get("virtual_router_id", v.vrid, 1, 255);
    r.get("priority", v.priority, 1, 255);
    r.get("version", v.version, 2, 3);
    r.choice("family", v.family, {{"ipv4", base::Family::V4}, {"ipv6", base::Family::V6}});
    if (const auto* st = r.find("advert_interval")) {
        double iv = v.advertInterval;
        if (r.seconds("advert_interval", iv, 0.01, 255)) {
            if (v.version == 2 && (iv < 1 || iv != static_cast<int>(iv)))
                r.error(*st, r.childPath("advert_interval"),
                        "VRRPv2 advertises whole seconds (1..255); use version = 3 for sub-second intervals");
            else if (v.version == 3 && iv > 40.95)
                r.error(*st, r.childPath("advert_interval"), "VRRPv3 intervals are at most 40.95 s");
            else v.advertInterval = iv;
        }
    }
    bool master = false;
    r.choice("state", master, {{"MASTER", true}, {"BACKUP", false}});
    v.initialMaster = master;
    r.get("nopreempt", v.nopreempt);
    r.seconds("preempt_delay", v.preemptDelay, 0, 1000);
    subGroup(r, "authentication", "vrrp_instances.authentication", [&](Reader& a) {
        a.require("type");
        a.choice("type", v.authType, {{"PASS", AuthType::Pass}, {"AH", AuthType::Ah}, {"NONE", AuthType::None}});
        if (const auto* st = a.find("password");
            st && a.get("password", v.authPassword, false) && v.authPassword.size() > 8)
            a.error(*st, a.childPath("password"), "VRRPv2 carries at most 8 characters of password");
        if (v.authType != AuthType::None && v.authPassword.empty() && !a.has("password"))
            a.error("missing required setting 'password'");
        if (v.version == 3 && v.authType != AuthType::None)
            a.error("VRRPv3 has no authentication (RFC 5798, 9); remove it or use version = 2");
    });
    readVirtualAddresses(r, "virtual_addresses", "vrrp_instances.virtual_addresses", v.virtualAddresses);
    readVirtualAddresses(r, "excluded_addresses", "vrrp_instances.virtual_addresses", v.excludedAddresses);
    r.get("unicast_source", v.unicastSource);
    if (const auto* st = r.find("unicast_peers")) {
        std::vector<std::string> peers;
        if (r.get("unicast_peers", peers))
            for (const auto& p : peers) {
                if (auto a = base::IpAddress::parse(p)) v.unicastPeers.push_back(*a);
                else r.error(*st, r.childPath("unicast_peers"), "'" + p + "' is not an IPv4 or IPv6 address");
            }
    }
    eachGroup(r, "track_interfaces", "vrrp_instances.track_interfaces", [&](Reader& t) {
        TrackInterface ti;
        t.require("interface");
        t.get("interface", ti.interface, false);
        t.get("weight", ti.weight, -253, 253);
        v.trackInterfaces.push_back(ti);
    });
    eachGroup(r, "track_scripts", "vrrp_instances.track_scripts", [&](Reader& t) {
        TrackScript ts;
        ts.where = t.location();
        t.require("script");
        t.get("script", ts.script, false);
        t.get("weight", ts.weight, -253, 253);
        v.trackScripts.push_back(ts);
    });
    subGroup(r, "garp", "vrrp_instances.garp", [&](Reader& g) {
        g.seconds("master_delay", v.garp.masterDelay, 0, 3600);
        g.get("master_repeat", v.garp.masterRepeat, 0, 100);
        g.seconds("master_refresh", v.garp.masterRefresh, 0, kDay);
        g.get("master_refresh_repeat", v.garp.masterRefreshRepeat, 1, 100);
        g.seconds("interval", v.garp.interval, 0, 10);
    });
    readNotify(r, "vrrp_instances.notify", v.notify);
    r.get("accept_mode", v.acceptMode);
    bool pseudo = true;
    r.choice("v3_checksum", pseudo, {{"with-pseudo-header", true}, {"without-pseudo-header", false}});
    v.checksumPseudoHeader = pseudo;
}

const std::vector<std::string>& checkKeysFor(CheckType t) {
    static const std::vector<std::string> tcp = {};
    static const std::vector<std::string> http = {"path",         "status_codes",   "digest",
                                                  "regex",        "regex_no_match", "virtualhost",
                                                  "http_version", "max_body",       "read_timeout"};
    static const std::vector<std::string> tls = {"sni", "verify", "ca_file", "cert_file", "key_file"};
    static const std::vector<std::string> script = {"script", "user", "timeout", "dynamic_weight"};
    switch (t) {
    case CheckType::Tcp: return tcp;
    case CheckType::Http: return http;
    case CheckType::Https: {
        static const std::vector<std::string> https = [] {
            auto v = http;
            v.insert(v.end(), tls.begin(), tls.end());
            return v;
        }();
        return https;
    }
    case CheckType::Script: return script;
    }
    return tcp;
}

bool parseStatusCodes(Reader& r, std::vector<StatusRange>& out) {
    const libconfig::Setting* s = r.find("status_codes");
    if (!s) return false;
    if (!s->isArray() && !s->isList()) {
        r.error(*s, r.childPath("status_codes"),
                "expected an array of codes or \"LOW-HIGH\" ranges, got " + typeName(*s));
        return false;
    }
    std::vector<StatusRange> v;
    for (int i = 0; i < s->getLength(); ++i) {
        const libconfig::Setting& e = (*s)[i];
        const std::string path = r.childPath("status_codes") + "[" + std::to_string(i) + "]";
        StatusRange range;
        if (e.getType() == libconfig::Setting::TypeInt) {
            range.low = range.high = static_cast<int>(e);
        } else if (e.getType() == libconfig::Setting::TypeString) {
            const std::string t = static_cast<const char*>(e);
            if (sscanf(t.c_str(), "%d-%d", &range.low, &range.high) != 2 ||
                t.find_first_not_of("0123456789-") != std::string::npos) {
                r.error(e, path, "'" + t + "' is not a range LOW-HIGH");
                return false;
            }
        } else {
            r.error(e, path, "expected a status code or \"LOW-HIGH\", got " + typeName(e));
            return false;
        }
        if (range.low < 100 || range.high > 599 || range.low > range.high) {
            r.error(e, path, "HTTP status codes are 100..599, low <= high");
            return false;
        }
        v.push_back(range);
    }
    if (v.empty()) {
        r.error(*s, r.childPath("status_codes"), "must name at least one code");
        return false;
    }
    out = v;
    return true;
}

void readCheck(Reader& r, CheckConfig& c) {
    c.where = r.location();
    r.require("type");
    r.choice("type", c.type,
             {{"tcp", CheckType::Tcp},
              {"http", CheckType::Http},
              {"https", CheckType::Https},
              {"script", CheckType::Script}});
    r.seconds("delay_loop", c.delayLoop, 0.01, kDay);
    r.seconds("connect_timeout", c.connectTimeout, 0.01, 3600);
    r.get("retry", c.retry, 0, 100);
    r.seconds("delay_before_retry", c.delayBeforeRetry, 0, 3600);
    r.seconds("warmup", c.warmup, 0, kDay);
    r.get("rise", c.rise, 1, 1000);
    r.get("fall", c.fall, 1, 1000);
    r.get("connect_ip", c.connectIp);
    r.get("connect_port", c.connectPort, 1, 65535);
    r.get("bind_ip", c.bindIp);
    const bool isHttp = c.type == CheckType::Http || c.type == CheckType::Https;
    if (isHttp) {
        if (const auto* st = r.find("path"); st && r.get("path", c.path, false) && c.path[0] != '/')
            r.error(*st, r.childPath("path"), "a path starts with '/'");
        parseStatusCodes(r, c.statusCodes);
        if (const auto* st = r.find("digest"); st && r.get("digest", c.digest)) {
            if (c.digest.size() != 32 || c.digest.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                r.error(*st, r.childPath("digest"),
                        "an MD5 digest is 32 hex digits (directord --genhash URL prints it)");
            for (auto& ch : c.digest) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
        }
        if (const auto* st = r.find("regex"); st && r.get("regex", c.regex, false)) {
            regex_t re;
            const int rc = regcomp(&re, c.regex.c_str(), REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char msg[256];
                regerror(rc, &re, msg, sizeof msg);
                r.error(*st, r.childPath("regex"), std::string("not a POSIX extended regex: ") + msg);
            } else {
                regfree(&re);
            }
        }
        r.get("regex_no_match", c.regexNoMatch);
        r.get("virtualhost", c.virtualhost);
        if (const auto* st = r.find("http_version")) {
            std::string ver;
            if (r.get("http_version", ver)) {
                if (ver == "1.0" || ver == "1.1") c.httpVersion = ver;
                else r.error(*st, r.childPath("http_version"), "'" + ver + "' is not one of: 1.0, 1.1");
            }
        }
        r.get("max_body", c.maxBody, 0, 1 << 30);
        r.seconds("read_timeout", c.readTimeout, 0.01, 3600);
    }
    if (c.type == CheckType::Https) {
        r.get("sni", c.sni);
        r.get("verify", c.verify);
        r.get("ca_file", c.caFile);
        r.get("cert_file", c.certFile);
        r.get("key_file", c.keyFile);
        if (c.certFile.empty() != c.keyFile.empty()) r.error("cert_file and key_file go together");
    }
    if (c.type == CheckType::Script) {
        r.require("script");
        r.get("script", c.command);
        r.get("user", c.user);
        r.seconds("timeout", c.timeout, 0.01, 3600);
        r.get("dynamic_weight", c.dynamicWeight);
    }
}

std::optional<std::string> checkKeyHint(CheckType t, const std::string& key) {
    std::vector<std::string> owners;
    for (CheckType o : {CheckType::Http, CheckType::Https, CheckType::Script}) {
        if (o == t) continue;
        const auto& keys = checkKeysFor(o);
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) owners.push_back(name(o));
    }
    if (owners.empty()) return std::nullopt;
    std::string list;
    for (const auto& o : owners) list += (list.empty() ? "" : ", ") + o;
    return "'" + key + "' is not a setting of " + name(t) + " checks (it belongs to: " + list + ")";
}

void readForwarding(Reader& r, const char* key, std::optional<ForwardingMethod>& out) {
    ForwardingMethod m{};
    if (r.choice(key, m,
                 {{"nat", ForwardingMethod::Nat}, {"dr", ForwardingMethod::Dr}, {"tun", ForwardingMethod::Tun}}))
        out = m;
}

void readRealServer(Reader& r, const VirtualServer& vs, RealServer& rs) {
    rs.where = r.location();
    r.require("address");
    r.get("address", rs.address);
    rs.port = vs.port;
    if (vs.fwmark == 0 && !r.has("port") && vs.port == 0) r.require("port");
    r.get("port", rs.port, vs.fwmark ? 0 : 1, 65535);
    r.get("weight", rs.weight, 0, 65535);
    r.get("upper_threshold", rs.upperThreshold, 0, 65535);
    r.get("lower_threshold", rs.lowerThreshold, 0, 65535);
    readForwarding(r, "forwarding", rs.forwarding);
    bool inhibit = false;
    if (r.get("inhibit_on_failure", inhibit)) rs.inhibitOnFailure = inhibit;
    r.get("notify_up", rs.notifyUp);
    r.get("notify_down", rs.notifyDown);
    eachGroup(r, "checks", "virtual_servers.real_servers.checks", [&](Reader& c) {
        CheckConfig check;
        readCheck(c, check);
        const CheckType type = check.type;
        c.setHint([type](const std::string& key) { return checkKeyHint(type, key); });
        rs.checks.push_back(check);
    });
}

void readVirtualServer(Reader& r, VirtualServer& vs) {
    vs.where = r.location();
    const bool hasMark = r.has("fwmark");
    const bool hasAddr = r.has("address");
    if (hasMark && hasAddr) r.error("set either address (with port and protocol) or fwmark, not both");
    if (!hasMark && !hasAddr) r.error("missing required setting 'address' (or 'fwmark')");
    r.get("fwmark", vs.fwmark, 1, 4294967295LL);
    if (!hasMark) {
        r.get("address", vs.address);
        if (vs.address) vs.family = vs.address->family();
        r.require("port");
        r.get("port", vs.port, 0, 65535);
        r.choice("protocol", vs.protocol,
                 {{"tcp", std::string("tcp")}, {"udp", std::string("udp")}, {"sctp", std::string("sctp")}});
    } else {
        r.choice("family", vs.family, {{"ipv4", base::Family::V4}, {"ipv6", base::Family::V6}});
        r.setHint([](const std::string& key) -> std::optional<std::string> {
            if (key == "port" || key == "protocol")
                return "'" + key +
                       "' does not apply to a fwmark virtual server (the firewall mark selects the traffic)";
            return std::nullopt;
        });
    }
    if (const auto* st = r.find("scheduler")) {
        std::string s;
        if (r.get("scheduler", s)) {
            static const std::vector<std::string> kScheds = {"rr", "wrr", "lc",   "wlc",   "sed", "nq",  "sh",
                                                             "dh", "mh",  "lblc", "lblcr", "fo",  "ovf", "twos"};
            if (std::find(kScheds.begin(), kScheds.end(), s) != kScheds.end()) vs.scheduler = s;
            else
                r.error(*st, r.childPath("scheduler"),
                        "unknown scheduler '" + s + "' (rr wrr lc wlc sed nq sh dh mh lblc lblcr fo ovf twos)");
        }
    }
    if (const auto* st = r.find("scheduler_flags")) {
        std::vector<std::string> flags;
        if (r.get("scheduler_flags", flags)) {
            for (const auto& f : flags) {
                if (f == "fallback") vs.schedFallback = true;
                else if (f == "port") vs.schedPort = true;
                else
                    r.error(*st, r.childPath("scheduler_flags"), "unknown scheduler flag '" + f + "' (fallback, port)");
            }
            if (!flags.empty() && vs.scheduler != "sh" && vs.scheduler != "mh")
                r.error(*st, r.childPath("scheduler_flags"), "scheduler flags apply to the sh and mh schedulers only");
        }
    }
    std::optional<ForwardingMethod> fwd;
    readForwarding(r, "forwarding", fwd);
    if (fwd) vs.forwarding = *fwd;
    subGroup(r, "tunnel", "virtual_servers.tunnel", [&](Reader& t) {
        t.choice("type", vs.tunnel.type,
                 {{"ipip", TunnelType::Ipip}, {"gue", TunnelType::Gue}, {"gre", TunnelType::Gre}});
        t.get("port", vs.tunnel.port, 0, 65535);
        t.choice(
            "checksum", vs.tunnel.checksum,
            {{"nocsum", TunnelChecksum::NoCsum}, {"csum", TunnelChecksum::Csum}, {"remcsum", TunnelChecksum::RemCsum}});
        if (vs.tunnel.type == TunnelType::Gue && vs.tunnel.port == 0) t.error("a gue tunnel needs a port");
    });
    r.get("persistence_timeout", vs.persistenceTimeout, 0, 2678400);
    if (const auto* st = r.find("persistence_netmask")) {
        const int maxp = vs.family == base::Family::V4 ? 32 : 128;
        if (st->getType() == libconfig::Setting::TypeString && vs.family == base::Family::V4) {
            std::string text;
            r.get("persistence_netmask", text);
            auto a = base::IpAddress::parse(text);
            const std::uint32_t m = a && a->isV4() ? a->v4HostOrder() : 1;
            const int ones = __builtin_popcount(m);
            if (!a || !a->isV4() || (ones < 32 && (m << ones) != 0))
                r.error(*st, r.childPath("persistence_netmask"), "'" + text + "' is not a netmask like 255.255.255.0");
            else vs.persistenceNetmask = ones;
        } else {
            r.get("persistence_netmask", vs.persistenceNetmask, 0, maxp);
        }
    }
    if (vs.persistenceNetmask < 0) vs.persistenceNetmask = vs.family == base::Family::V4 ? 32 : 128;
    r.get("persistence_engine", vs.persistenceEngine);
    r.get("one_packet", vs.onePacket);
    r.get("quorum", vs.quorum, 0, 1 << 30);
    r.get("hysteresis", vs.hysteresis, 0, 1 << 30);
    r.get("quorum_up", vs.quorumUp);
    r.get("quorum_down", vs.quorumDown);
    subGroup(r, "sorry_server", "virtual_servers.sorry_server", [&](Reader& s) {
        SorryServer ss;
        s.require("address");
        s.get("address", ss.address);
        ss.port = vs.port;
        s.get("port", ss.port, 0, 65535);
        s.get("weight", ss.weight, 0, 65535);
        readForwarding(s, "forwarding", ss.forwarding);
        vs.sorryServer = ss;
    });
    r.get("inhibit_on_failure", vs.inhibitOnFailure);
    r.get("alpha", vs.alpha);
    r.get("omega", vs.omega);
    r.get("ha_suspend", vs.haSuspend);
    r.get("virtualhost", vs.virtualhost);
    r.seconds("delay_loop", vs.delayLoop, 0.01, kDay);
    r.seconds("connect_timeout", vs.connectTimeout, 0.01, 3600);
    r.get("retry", vs.retry, 0, 100);
    r.seconds("delay_before_retry", vs.delayBeforeRetry, 0, 3600);
    r.seconds("warmup", vs.warmup, 0, kDay);
    eachGroup(r, "real_servers", "virtual_servers.real_servers", [&](Reader& rr) {
        RealServer rs;
        readRealServer(rr, vs, rs);
        vs.realServers.push_back(rs);
    });
}

Config readRoot(Diagnostics& diags, const libconfig::Setting& root, const std::string& file) {
    Config cfg;
    cfg.file = file;
    Reader r(diags, root, "", "", file);
    subGroup(r, "global", "global", [&](Reader& g) { readGlobal(g, cfg.global); });
    eachGroup(r, "vrrp_scripts", "vrrp_scripts", [&](Reader& s) {
        VrrpScript script;
        readScript(s, script);
        cfg.vrrpScripts.push_back(script);
    });
    eachGroup(r, "vrrp_instances", "vrrp_instances", [&](Reader& s) {
        VrrpInstance inst;
        readInstance(s, inst);
        cfg.vrrpInstances.push_back(inst);
    });
    eachGroup(r, "vrrp_sync_groups", "vrrp_sync_groups", [&](Reader& s) {
        SyncGroup g;
        g.where = s.location();
        s.require("name");
        s.get("name", g.name, false);
        s.require("members");
        s.get("members", g.members);
        readNotify(s, "vrrp_sync_groups.notify", g.notify);
        cfg.syncGroups.push_back(g);
    });
    eachGroup(r, "virtual_servers", "virtual_servers", [&](Reader& s) {
        VirtualServer vs;
        readVirtualServer(s, vs);
        cfg.virtualServers.push_back(vs);
    });
    r.finish();
    return cfg;
}

LoadResult finishLoad(libconfig::Config& lc, const std::string& file) {
    LoadResult result;
    Config cfg = readRoot(result.diagnostics, lc.getRoot(), file);
    validate(cfg, result.diagnostics);
    // By line within each file; files in the order their first problem was found.
    std::map<std::string, size_t> fileOrder;
    for (const auto& d : result.diagnostics) fileOrder.emplace(d.file, fileOrder.size());
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) {
                         return a.file != b.file ? fileOrder[a.file] < fileOrder[b.file] : a.line < b.line;
                     });
    if (result.diagnostics.empty()) result.config = std::move(cfg);
    return result;
}

std::string dirOf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

template <class ReadFn>
LoadResult guardedLoad(const std::string& file, const std::string& includeDir, ReadFn read) {
    LoadResult result;
    try {
        libconfig::Config lc;
        lc.setIncludeDir(includeDir.c_str());
        lc.setAutoConvert(false);
        read(lc);
        return finishLoad(lc, file);
    } catch (const libconfig::ParseException& e) {
        const std::string f = e.getFile() ? e.getFile() : file;
        const std::string what = e.getError() ? e.getError() : "";
        result.diagnostics.push_back(
            Diagnostic{f, e.getLine(), "", what == "syntax error" ? what : "syntax error: " + what});
    } catch (const libconfig::FileIOException&) {
        result.diagnostics.push_back(
            Diagnostic{file, 0, "", std::string("cannot read the file: ") + std::strerror(errno)});
    } catch (const std::exception& e) {
        result.diagnostics.push_back(Diagnostic{file, 0, "", std::string("cannot load: ") + e.what()});
    }
    return result;
}

}  // namespace

LoadResult loadFile(const std::string& path) {
    {
        std::ifstream probe(path);
        if (!probe) {
            const int err = errno;
            LoadResult r;
            r.diagnostics.push_back(
                Diagnostic{path, 0, "", std::string("cannot read the file: ") + std::strerror(err)});
            return r;
        }
    }
    return guardedLoad(path, dirOf(path), [&](libconfig::Config& lc) { lc.readFile(path.c_str()); });
}

LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir) {
    return guardedLoad(name, includeDir, [&](libconfig::Config& lc) { lc.readString(text); });
}

}  // namespace conf
