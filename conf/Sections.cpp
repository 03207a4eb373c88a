// Every section of the config language: its settings in reading order, with their documentation
// (conf/README.md's rows, checked by tests/unit/conf/DocsTest.cpp) and the rules across settings.

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "base/Regex.h"
#include "conf/Hex.h"
#include "conf/Schema.h"
#include "kmod/sched/Registry.h"

namespace conf::schema {
namespace {

constexpr double kDay = 86400;

const std::vector<std::pair<std::string_view, base::Family>> kFamilies = {{"ipv4", base::Family::V4},
                                                                          {"ipv6", base::Family::V6}};
const std::vector<std::pair<std::string_view, Forwarding>> kForwarding = {
    {"nat", Forwarding::Masq}, {"dr", Forwarding::Route}, {"tun", Forwarding::Tunnel}};

template <class T>
Setting<T> nonEmpty(std::string_view key, std::string T::*m, Doc doc) {
    return required(string(key, m, doc, Empty::Refused));
}

// ---- global ----

const Section<IpvsTimeouts>& ipvsTimeouts() {
    static const Section<IpvsTimeouts> s{
        "global.ipvs_timeouts",
        {
            integer("tcp", &IpvsTimeouts::tcp, 0, 2147483,
                    {"integer (s)", "`0`", "0..2147483",
                     "established TCP timeout; 0 leaves the data plane's value (kernel default 900)"}),
            integer("tcpfin", &IpvsTimeouts::tcpFin, 0, 2147483,
                    {"integer (s)", "`0`", "0..2147483", "TCP FIN_WAIT timeout; 0 leaves it (kernel default 120)"}),
            integer("udp", &IpvsTimeouts::udp, 0, 2147483,
                    {"integer (s)", "`0`", "0..2147483", "UDP timeout; 0 leaves it (kernel default 300)"}),
        }};
    return s;
}

const Section<UserspaceLimits>& userspaceLimits() {
    using U = UserspaceLimits;
    static const Section<U> s{
        "global.userspace",
        {
            integer(
                "udp_flows", &U::udpFlows, 0, 1 << 30,
                {"integer", "`0`", "0..2^30", "UDP flows at most (one descriptor each); 0: a third of the fd limit"}),
            integer("udp_flows_per_source", &U::udpFlowsPerSource, 0, 1 << 30,
                    {"integer", "`0`", "0..2^30", "UDP flows from one client address; 0: a sixteenth of `udp_flows`"}),
            integer("udp_unanswered_timeout", &U::udpUnansweredTimeout, 1, 2147483,
                    {"integer (s)", "`10`", "1..2147483",
                     "a UDP flow its real server never answered ends after this (spoofed sources)"}),
            integer("tcp_connections", &U::tcpConnections, 0, 1 << 30,
                    {"integer", "`0`", "0..2^30",
                     "TCP connections at most (up to six descriptors each); 0: from two thirds of the fd limit"}),
            integer("tcp_connections_per_source", &U::tcpConnectionsPerSource, 0, 1 << 30,
                    {"integer", "`0`", "0..2^30",
                     "TCP connections from one client address; 0: an eighth of `tcp_connections`"}),
            integer("tcp_progress_timeout", &U::tcpProgressTimeout, 0, 2147483,
                    {"integer (s)", "`60`", "0..2147483",
                     "a TCP connection whose client only trickles (under 1 KiB per sixth of this, the real server "
                     "silent) is closed after this, whatever it trickles (slowloris); 0: never"}),
            integer("source_prefix_v4", &U::sourcePrefixV4, 8, 32,
                    {"integer", "`32`", "8..32", "the per-source shares count IPv4 clients by this prefix"}),
            integer("source_prefix_v6", &U::sourcePrefixV6, 16, 128,
                    {"integer", "`64`", "16..128",
                     "the per-source shares count IPv6 clients by this prefix (a /64 is one host's to rotate in)"}),
        }};
    return s;
}

const Section<SyncDaemonConfig>& syncDaemon() {
    static const Section<SyncDaemonConfig> s{
        "global.sync_daemon",
        {
            boolean("enabled", &SyncDaemonConfig::enabled,
                    {"bool", "`true`", "", "set `false` to keep the group but turn sync off"}),
            nonEmpty("interface", &SyncDaemonConfig::interface,
                     {"string", "required", "interface name", "interface the sync messages use"}),
            integer("sync_id", &SyncDaemonConfig::syncId, 0, 255,
                    {"integer", "`0`", "0..255", "sync id; both directors of a pair use the same"}),
            custom<SyncDaemonConfig>(
                "group", {"string", "`\"224.0.0.81\"`", "multicast address", "multicast group"},
                [](Reader& r, const libconfig::Setting& st, SyncDaemonConfig& d) {
                    auto a = r.address(st, "group");
                    if (!a) return;
                    if (!a->isMulticast()) r.error(st, r.childPath("group"), a->str() + " is not a multicast address");
                    else d.group = *a;
                },
                [](Out& o, const SyncDaemonConfig& d) { o.set("group", quote(d.group.str())); }),
            integer("port", &SyncDaemonConfig::port, 1, 65535, {"integer", "`8848`", "1..65535", "UDP port"}),
            integer("ttl", &SyncDaemonConfig::ttl, 1, 255, {"integer", "`1`", "1..255", "multicast TTL"}),
            integer(
                "maxlen", &SyncDaemonConfig::maxlen, 0, 65507,
                {"integer", "`0`", "0..65507",
                 "largest sync message; 0: the kernel's (1472 for a master, whatever the MTU; a backup takes what fits its MTU)"}),
            string("vrrp_instance", &SyncDaemonConfig::vrrpInstance,
                   {"string", "none", "an instance name", "instance whose role the sync daemon follows"}),
            addressList("peers", &SyncDaemonConfig::peers,
                        {"array of strings", "none: any sender", "addresses",
                         "backup, userspace plane: hear only these senders (the other director's address on the "
                         "interface); keepalived has no such setting"}),
            integer("max_connections", &SyncDaemonConfig::maxConnections, 1, 16777216,
                    {"integer", "`131072`", "1..16777216",
                     "backup, userspace plane: synced connections held at most (about 200 bytes each); more are "
                     "refused and counted"}),
            integer("max_templates", &SyncDaemonConfig::maxTemplates, 1, 16777216,
                    {"integer", "`131072`", "1..16777216",
                     "backup, userspace plane: persistence templates installed by sync at most"}),
            integer("max_per_source", &SyncDaemonConfig::maxPerSource, 1, 16777216,
                    {"integer", "`65536`", "1..16777216",
                     "backup, userspace plane: connections, and templates, from one sender at most"}),
        },
        nullptr,
        nullptr,
        [](SyncDaemonConfig& d, const Location& l) { d.where = l; }};
    return s;
}

const Section<SnmpConfig>& snmp() {
    static const Section<SnmpConfig> s{
        "global.snmp",
        {
            boolean("enabled", &SnmpConfig::enabled,
                    {"bool", "`true`", "", "set `false` to keep the group but not register"}),
            string("agentx_socket", &SnmpConfig::agentxSocket,
                   {"string", "`\"/var/agentx/master\"`", "net-snmp address", "snmpd's AgentX master socket"},
                   Empty::Refused),
            custom<SnmpConfig>(
                "mibs",
                {"array of strings", "`[ \"keepalived\", \"vrrp\", \"vrrpv3\" ]`", "`keepalived` `vrrp` `vrrpv3`",
                 "MIBs served, and their notifications: KEEPALIVED-MIB, VRRP-MIB (RFC 2787: VRRPv2 over IPv4), "
                 "VRRPv3-MIB (RFC 6527: every instance)"},
                [](Reader& r, const libconfig::Setting& st, SnmpConfig& c) {
                    auto mibs = r.strings(st, "mibs");
                    if (!mibs) return;
                    bool good = true;
                    for (const auto& m : *mibs)
                        if (m != "keepalived" && m != "vrrp" && m != "vrrpv3") {
                            r.error(st, r.childPath("mibs"),
                                    "unknown MIB '" + m + "' (known: keepalived, vrrp, vrrpv3)");
                            good = false;
                        }
                    if (good) c.mibs = *mibs;
                },
                [](Out& o, const SnmpConfig& c) { o.set("mibs", strings(c.mibs)); }),
            boolean("traps", &SnmpConfig::traps,
                    {"bool", "`false`", "", "send notifications (VRRP state changes, real server up/down)"}),
        }};
    return s;
}

const Section<NftablesConfig>& nftables() {
    using N = NftablesConfig;
    static const Section<N> s{
        "global.nftables",
        {
            custom<N>(
                "table", {"string", "`\"directord\"`", "a name (letters, digits, _)", "the inet table the plane owns"},
                [](Reader& r, const libconfig::Setting& st, N& n) {
                    auto t = r.string(st, "table", false);
                    if (!t) return;
                    const bool ok = t->size() <= 64 && std::all_of(t->begin(), t->end(), [](char c) {
                                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                                    });
                    if (ok) n.table = *t;
                    else
                        r.error(st, r.childPath("table"),
                                "'" + *t + "' is not a table name (letters, digits, _; 64 at most)");
                },
                [](Out& o, const N& n) { o.set("table", quote(n.table)); }),
            boolean("source_nat", &N::sourceNat,
                    {"bool", "`false`", "",
                     "masquerade connections to the real servers (when they do not route back through the director)"}),
        }};
    return s;
}

const Section<AnnounceConfig>& announce() {
    using A = AnnounceConfig;
    static const Section<A> s{
        "global.announce",
        {
            boolean("enabled", &A::enabled,
                    {"bool", "`true`", "", "set `false` to keep the group but announce nothing"}),
            [] {
                auto st = integer("table", &A::table, 1, 2147483647LL,
                                  {"integer", "required", "1..2147483647, not 253 254 255",
                                   "the routing table the announced VIPs go in (the routing daemon reads it)"});
                st.required = true;
                return st;
            }(),
            integer(
                "protocol", &A::protocol, 5, 255,
                {"integer", "`200`", "5..255", "the routes' protocol number (`ip route ... proto`), directord's own"}),
            string("vrrp_instance", &A::vrrpInstance,
                   {"string", "none", "an instance name", "announce only while this VRRP instance is MASTER"},
                   Empty::Omitted),
        },
        nullptr,
        [](Reader& r, A& a) {
            if (a.table == 253 || a.table == 254 || a.table == 255)
                r.errorAt(
                    "table",
                    std::to_string(a.table) +
                        " is one of the kernel's own tables (default, main, local): give directord one of its own");
        },
        [](A& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<SmtpConfig>& smtp() {
    using S = SmtpConfig;
    static const Section<S> s{
        "global.smtp",
        {
            custom<S>(
                "server", {"string", "none: no mail", "`ADDRESS:PORT`, `[IPv6]:PORT`", "the SMTP server alerts go to"},
                [](Reader& r, const libconfig::Setting& st, S& c) {
                    auto text = r.string(st, "server");
                    if (!text) return;
                    if (auto a = base::SocketAddress::parse(*text)) c.server = *a;
                    else if (auto ip = base::IpAddress::parse(*text)) c.server = base::SocketAddress{*ip, 25};
                    else
                        r.error(st, r.childPath("server"),
                                "'" + *text + "' is not ADDRESS[:PORT] (IPv6: [ADDRESS]:PORT; port 25 when left out)");
                },
                [](Out& o, const S& c) {
                    if (c.server) o.set("server", quote(c.server->str()));
                }),
            duration("connect_timeout", &S::connectTimeout, 1, 3600,
                     {"duration", "`30`", "1..3600", "connecting and each reply, as keepalived's smtp_connect_timeout"}),
            string("helo_name", &S::heloName, {"string", "the host name", "", "the name sent with EHLO / HELO"}),
            string("from", &S::from, {"string", "`directord@` the host name", "", "the sender"}),
            stringList("to", &S::to, {"array of strings", "`[]`", "addresses", "the recipients"}),
            boolean("starttls", &S::starttls,
                    {"bool", "`true`", "", "encrypt with STARTTLS when the server offers it (keepalived sends plain text)"}),
        },
        nullptr,
        nullptr};
    return s;
}

const Section<StatusConfig>& status() {
    static const Section<StatusConfig> s{
        "global.status",
        {
            custom<StatusConfig>(
                "listen",
                {"string", "none: off", "`ADDRESS:PORT`, `[IPv6]:PORT`",
                 "HTTP listener serving `/status` (JSON) and `/metrics` (Prometheus text)"},
                [](Reader& r, const libconfig::Setting& st, StatusConfig& c) {
                    auto text = r.string(st, "listen");
                    if (!text) return;
                    if (auto a = base::SocketAddress::parse(*text)) c.listen = *a;
                    else
                        r.error(st, r.childPath("listen"),
                                "'" + *text + "' is not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)");
                },
                [](Out& o, const StatusConfig& c) {
                    if (c.listen) o.set("listen", quote(c.listen->str()));
                }),
        }};
    return s;
}

const Section<GlobalConfig>& global() {
    using G = GlobalConfig;
    static const Section<G> s{
        "global",
        {
            string("router_id", &G::routerId,
                   {"string", "host name", "", "this director's name in logs, notifications and SNMP"}),
            string("script_user", &G::scriptUser,
                   {"string", "`\"nobody\"`", "a user name",
                    "user that scripts and notifiers run as, unless they name their own"},
                   Empty::Refused),
            boolean("script_security", &G::scriptSecurity,
                    {"bool", "`true`", "", "refuse to run a script as root if a non-root user could change it"}),
            boolean("allow_empty", &G::allowEmpty,
                    {"bool", "`false`", "",
                     "let a reload apply a config with no virtual servers and no VRRP instances (refused otherwise)"}),
            string(
                "notify_fifo", &G::notifyFifo,
                {"string", "none", "path",
                 "FIFO that gets one line per VRRP transition, keepalived's format (`INSTANCE \"VI_1\" MASTER 100`)"}),
            choice<G, std::string>("log_level", &G::logLevel,
                                   {{"debug", "debug"},
                                    {"info", "info"},
                                    {"notice", "notice"},
                                    {"warning", "warning"},
                                    {"error", "error"}},
                                   {"string", "`\"info\"`", "`debug` `info` `notice` `warning` `error`",
                                    "least severe level logged (`-l` overrides)"}),
            choice("log_target", &G::logTarget, {{"stderr", LogTarget::Stderr}, {"syslog", LogTarget::Syslog}},
                   {"string", "`\"stderr\"`", "`stderr` `syslog`", "where logs go (`--syslog` overrides)"}),
            string("pid_file", &G::pidFile,
                   {"string", "`\"/run/directord.pid\"`", "path",
                    "pid file, locked while running: a second directord with it refuses to start"},
                   Empty::Refused),
            custom<G>(
                "net_namespace",
                {"string", "none: where it is started", "a name under /run/netns",
                 "run in this network namespace (keepalived's net_namespace; `ip netns add` makes it); a change "
                 "needs a restart"},
                [](Reader& r, const libconfig::Setting& st, G& g) {
                    auto n = r.string(st, "net_namespace", false);
                    if (!n) return;
                    if (n->find('/') != std::string::npos || *n == "." || *n == "..")
                        return r.error(st, r.childPath("net_namespace"),
                                       "'" + *n + "' is not a namespace name (one under /run/netns, no '/')");
                    g.netNamespace = *n;
                },
                [](Out& o, const G& g) {
                    if (!g.netNamespace.empty()) o.set("net_namespace", quote(g.netNamespace));
                }),
            socketPath("control_socket", &G::controlSocket,
                       {"string", "`\"/run/directord.sock\"`", "path (107 bytes at most)",
                        "unix socket (root only) for `ipvsctl` and `directorctl`"}),
            string("state_dump_file", &G::stateDumpFile,
                   {"string", "`\"/run/directord.json\"`", "path", "where SIGUSR1 writes the JSON state dump"},
                   Empty::Refused),
            choice(
                "data_plane", &G::dataPlane,
                {{"auto", DataPlane::Auto},
                 {"kernel", DataPlane::Kernel},
                 {"userspace", DataPlane::Userspace},
                 {"nftables", DataPlane::Nftables},
                 {"memory", DataPlane::Memory}},
                {"string", "`\"auto\"`", "`auto` `kernel` `nftables` `userspace` `memory`",
                 "`kernel`: Linux IPVS; `nftables`: the kernel forwards by nf_tables DNAT; `userspace`: the embedded "
                 "data plane; `auto`: kernel if it has IPVS, else nftables if it has nf_tables and can do every "
                 "virtual server, else userspace; `memory`: dry run, the table is kept in memory and nothing is "
                 "forwarded"}),
            choice("flush_on_stop", &G::flushOnStop,
                   {{"created", FlushOnStop::Created}, {"all", FlushOnStop::All}, {"none", FlushOnStop::None}},
                   {"string", "`\"created\"`", "`created` `all` `none`",
                    "on SIGTERM: remove the virtual services directord created / flush the whole table / leave it"}),
            duration("resync_interval", &G::resyncInterval, 1, kDay,
                     {"duration", "`10`", "1..86400",
                      "how often the table is read back and drift repaired (a service deleted by hand comes back)"}),
            duration("vrrp_startup_delay", &G::vrrpStartupDelay, 0, 3600,
                     {"duration", "`0`", "0..3600",
                      "no VRRP instance becomes master before this long after start (keepalived's; they listen "
                      "as backups meanwhile)"}),
            duration("vrrp_delay_after_boot", &G::vrrpDelayAfterBoot, 0, kDay,
                     {"duration", "`0`", "0..86400",
                      "... nor before the host has been up this long (keepalived 2.4's: a boot, not a restart, "
                      "waits); the longer of the two counts"}),
            group("ipvs_timeouts", &G::ipvsTimeouts, ipvsTimeouts(),
                  {"group", "", "", "connection timeouts, like `ipvsadm --set`"}),
            group("userspace", &G::userspace, userspaceLimits(),
                  {"group", "", "", "the userspace plane's limits (file descriptors), against floods"}),
            group(
                "sync_daemon", &G::syncDaemon, syncDaemon(),
                {"group", "absent: off", "", "the IPVS connection sync daemon"},
                [](G& g) { g.syncDaemon.enabled = true; },
                [](const G& g) { return g.syncDaemon.enabled || g.syncDaemon != SyncDaemonConfig{}; }),
            group("snmp", &G::snmp, snmp(), {"group", "", "", "the AgentX subagent"},
                  [](G& g) { g.snmp.enabled = true; }),
            group("status", &G::status, status(), {"group", "", "", "the HTTP status and metrics listener"}, nullptr,
                  [](const G& g) { return g.status.listen.has_value(); }),
            group("nftables", &G::nftables, nftables(), {"group", "", "", "the nftables data plane's table"}),
            group("smtp", &G::smtp, smtp(), {"group", "none: no mail", "", "where mail alerts go (keepalived's notification_email)"},
                  nullptr, [](const G& g) { return g.smtp != SmtpConfig{}; }),
            group(
                "announce", &G::announce, announce(),
                {"group", "absent: off", "", "VIPs as routes for a routing daemon to announce (scale-out over ECMP)"},
                [](G& g) { g.announce.enabled = true; }, [](const G& g) { return g.announce.enabled; }),
        }};
    return s;
}

// ---- VRRP ----

const Section<VrrpScript>& vrrpScript() {
    using S = VrrpScript;
    static const Section<S> s{
        "vrrp_scripts",
        {
            nonEmpty("name", &S::name, {"string", "required", "unique", "name instances refer to in `track_scripts`"}),
            required(command("script", &S::command, {"command", "required", "", "the check; exit 0 = success"})),
            duration("interval", &S::interval, 0.01, kDay, {"duration", "`1`", "0.01..86400", "time between runs"}),
            duration("timeout", &S::timeout, 0.01, kDay,
                     {"duration", "`2`", "0.01..86400",
                      "a run that takes longer is killed (its whole process group) and counts as a failure"}),
            integer("weight", &S::weight, -253, 253,
                    {"integer", "`0`", "-253..253",
                     "0: failure puts tracking instances in FAULT; >0: added to priority while it succeeds; <0: "
                     "added while it fails"}),
            integer("rise", &S::rise, 1, 1000,
                    {"integer", "`1`", "1..1000", "successes in a row before it counts as up"}),
            integer("fall", &S::fall, 1, 1000,
                    {"integer", "`1`", "1..1000", "failures in a row before it counts as down"}),
            boolean("init_fail", &S::initFail,
                    {"bool", "`false`", "",
                     "starts failed, up after `rise` successes (keepalived's init_fail; not for a restarted worker, "
                     "whose instances resume as they were)"}),
            string("user", &S::user, {"string", "`global.script_user`", "a user name", "user the script runs as"}),
        },
        nullptr,
        nullptr,
        [](S& x, const Location& l) { x.where = l; }};
    return s;
}

// A notify group: the same settings for instances and sync groups, each with its own words.
Section<NotifyConfig> notify(const char* section, const char* const (&what)[5]) {
    using N = NotifyConfig;
    return Section<N>{section,
                      {
                          command("master", &N::master, {"command", "none", "", what[0]}),
                          command("backup", &N::backup, {"command", "none", "", what[1]}),
                          command("fault", &N::fault, {"command", "none", "", what[2]}),
                          command("stop", &N::stop, {"command", "none", "", what[3]}),
                          command("generic", &N::generic, {"command", "none", "", what[4]}),
                      }};
}

const Section<NotifyConfig>& instanceNotify() {
    static const char* const what[5] = {"run on becoming MASTER", "run on becoming BACKUP", "run on entering FAULT",
                                        "run when the instance stops (shutdown, or removed on reload)",
                                        "run on every transition, with the state as argument"};
    static const Section<NotifyConfig> s = notify("vrrp_instances.notify", what);
    return s;
}

const Section<NotifyConfig>& groupNotify() {
    static const char* const what[5] = {"run when the group becomes MASTER", "run when the group becomes BACKUP",
                                        "run when the group enters FAULT", "run when the group stops",
                                        "run on every transition of the group"};
    static const Section<NotifyConfig> s = notify("vrrp_sync_groups.notify", what);
    return s;
}

// An auth_hmac key's bytes from its text as keepalived reads it: `hex:` and hex digits, else the
// text itself; 32..64 bytes. Empty and `why` set when it is not a key.
std::vector<std::uint8_t> hmacKeyBytes(const std::string& text, std::string& why) {
    std::string bytes = text;
    if (text.rfind("hex:", 0) == 0) {
        auto h = parseHex(std::string_view(text).substr(4), false);
        if (!h) {
            why = "'hex:' is not followed by hex digits";
            return {};
        }
        bytes = h->bytes;
    }
    if (bytes.size() < 32 || bytes.size() > 64) {
        why = "the key is " + std::to_string(bytes.size()) + " bytes; auth_hmac keys are 32..64 bytes (HMAC-SHA256)";
        return {};
    }
    return {bytes.begin(), bytes.end()};
}

const Section<HmacKey>& hmacKey() {
    using K = HmacKey;
    static const Section<K> s{
        "vrrp_instances.auth_hmac.keys",
        {
            required(integer("id", &K::id, 1, 255, {"int", "required", "1..255", "the key's id, carried in each advert"})),
            string("key", &K::value,
                   {"string", "one of key, file, credential", "`\"hex:...\"` or text, 32..64 bytes",
                    "the key inline (keepalived's `key ID VALUE`)"}),
            string("file", &K::file,
                   {"string", "", "path", "the key from this file (same forms; trailing newline dropped; not readable "
                                          "by group or others; keepalived's `file:PATH`)"}),
            string("credential", &K::credential,
                   {"string", "", "name",
                    "the key from systemd's credential NAME ($CREDENTIALS_DIRECTORY/NAME, LoadCredential=)"}),
        },
        nullptr,
        [](Reader& r, K& k) {
            const int given = !k.value.empty() + !k.file.empty() + !k.credential.empty();
            if (given != 1) return r.error("give the key exactly one way: key, file or credential");
            std::string text = k.value, path = k.file, why;
            if (!k.credential.empty()) {
                const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
                if (!dir || !*dir)
                    return r.error("credential '" + k.credential +
                                   "': $CREDENTIALS_DIRECTORY is not set (run under systemd with LoadCredential=)");
                path = std::string(dir) + "/" + k.credential;
            }
            if (!path.empty()) {
                struct stat st{};
                if (::stat(path.c_str(), &st) != 0)
                    return r.error("cannot read the key file " + path + ": " + std::strerror(errno));
                if (k.credential.empty() && (st.st_mode & 077))
                    return r.error("the key file " + path + " is readable by group or others (chmod 600 it)");
                std::ifstream in(path, std::ios::binary);
                std::ostringstream all;
                all << in.rdbuf();
                if (!in && !in.eof()) return r.error("cannot read the key file " + path);
                text = all.str();
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
            }
            k.bytes = hmacKeyBytes(text, why);
            if (k.bytes.empty()) r.error((path.empty() ? std::string("key: ") : path + ": ") + why);
        }};
    return s;
}

const Section<AdvertPath>& advertPath() {
    using P = AdvertPath;
    static const Section<P> s{
        "vrrp_instances.advert_paths",
        {
            required(string("interface", &P::interface,
                            {"string", "required", "interface name", "the path's interface (not the instance's own)"},
                            Empty::Refused)),
            addressList("unicast_peers", &P::unicastPeers,
                        {"array of strings", "none: multicast", "addresses", "the peers' addresses on this path"}),
            address("unicast_source", &P::unicastSource,
                    {"string", "the interface's primary", "address", "our address on this path"}),
        }};
    return s;
}

const Section<AuthHmac>& authHmac() {
    using A = AuthHmac;
    static const Section<A> s{
        "vrrp_instances.auth_hmac",
        {
            required(list("keys", &A::keys, hmacKey(),
                          {"list of groups", "required", "1 or more", "the keys: adverts are signed with `active_key`, "
                                                                      "accepted with any of them (rotation)"})),
            required(integer("active_key", &A::activeKey, 1, 255,
                             {"int", "required", "a key's id", "the key adverts are signed with"})),
            choice("anti_replay", &A::antiReplayTime, {{"time", true}, {"monotonic", false}},
                   {"string", "`\"time\"`", "`time` `monotonic`",
                    "time: an advert's timestamp must be within `time_window` of our clock, and above the last "
                    "one heard from that source; monotonic: only above it"}),
            integer("time_window", &A::timeWindow, 1, 300,
                    {"int", "3 x advert_interval (whole seconds), 5..300", "1..300", "seconds of clock skew accepted"}),
            choice("mode", &A::mode,
                   {{"enforce", HmacMode::Enforce}, {"permissive", HmacMode::Permissive},
                    {"receive-only", HmacMode::ReceiveOnly}},
                   {"string", "`\"enforce\"`", "`enforce` `permissive` `receive-only`",
                    "enforce: adverts without the trailer are dropped; permissive: accepted (a peer being "
                    "migrated); receive-only: we send none and accept both. A bad trailer is dropped in every "
                    "mode"}),
        },
        nullptr,
        [](Reader& r, A& a) {
            std::set<int> ids;
            for (const auto& k : a.keys)
                if (!ids.insert(k.id).second) r.error("key id " + std::to_string(k.id) + " is given twice");
            if (a.activeKey && !ids.contains(a.activeKey))
                r.error("active_key " + std::to_string(a.activeKey) + " is not one of the keys");
        }};
    return s;
}

const Section<VrrpInstance>& authentication() {
    using V = VrrpInstance;
    static const Section<V> s{
        "vrrp_instances.authentication",
        {
            required(choice("type", &V::authType,
                            {{"PASS", AuthType::Pass}, {"AH", AuthType::Ah}, {"NONE", AuthType::None}},
                            {"string", "required", "`PASS` `AH` `NONE`",
                             "v2 only: simple password or IPsec AH (HMAC-MD5-96, as keepalived)"})),
            custom<V>(
                "password", {"string", "required", "1..8 characters", "the shared secret"},
                [](Reader& r, const libconfig::Setting& st, V& v) {
                    auto pw = r.string(st, "password", false);
                    if (!pw) return;
                    v.authPassword = *pw;
                    if (pw->size() > 8)
                        r.error(st, r.childPath("password"), "VRRPv2 carries at most 8 characters of password");
                },
                [](Out& o, const V& v) { o.set("password", quote(v.authPassword)); }),
        },
        nullptr,
        [](Reader& r, V& v) {
            if (v.authType != AuthType::None && v.authPassword.empty() && !r.has("password"))
                r.error("missing required setting 'password'");
            if (v.version == 3 && v.authType != AuthType::None)
                r.error("VRRPv3 has no authentication (RFC 5798, 9); remove it or use version = 2");
        }};
    return s;
}

bool parsePrefix(Reader& r, const libconfig::Setting& st, const std::string& path, const std::string& text,
                 VirtualAddress& va) {
    auto pf = base::IpPrefix::parse(text);
    if (!pf) r.error(st, path, "'" + text + "' is not an address or address/prefix");
    else va.prefix = *pf;
    return pf.has_value();
}

// An address's settings: a VIP's (`dev` defaults to the instance's interface) or a static one's
// (`dev` required: there is no instance).
std::vector<Setting<VirtualAddress>> addressSettings(bool staticAddress) {
    using A = VirtualAddress;
    auto dev = string("dev", &A::dev,
                      {"string", staticAddress ? "required" : "the instance's interface", "interface name",
                       "interface the address goes on"},
                      Empty::Omitted);
    return {
        required(custom<A>(
            "address", {"string", "required", "`addr` or `addr/prefix`", "the address (prefix defaults to /32 or /128)"},
            [](Reader& r, const libconfig::Setting& st, A& a) {
                if (auto text = r.string(st, "address")) parsePrefix(r, st, r.childPath("address"), *text, a);
            },
            [](Out& o, const A& a) { o.set("address", quote(a.prefix.str())); })),
        staticAddress ? required(dev) : dev,
        choice<A, std::string>(
            "scope", &A::scope,
            {{"global", "global"}, {"site", "site"}, {"link", "link"}, {"host", "host"}, {"nowhere", "nowhere"}},
            {"string", "`\"global\"`", "`global` `site` `link` `host` `nowhere`", "address scope"}),
        custom<A>(
            "label", {"string", "none", "at most 15 characters", "IPv4 address label (`eth0:vip`)"},
            [](Reader& r, const libconfig::Setting& st, A& a) {
                auto l = r.string(st, "label");
                if (!l) return;
                a.label = *l;
                if (l->size() > 15) r.error(st, r.childPath("label"), "a label has at most 15 characters");
            },
            [](Out& o, const A& a) {
                if (!a.label.empty()) o.set("label", quote(a.label));
            }),
    };
}

const Section<VirtualAddress>& virtualAddress() {
    static const Section<VirtualAddress> s{"vrrp_instances.virtual_addresses", addressSettings(false)};
    return s;
}

const Section<VirtualAddress>& staticAddress() {
    static const Section<VirtualAddress> s{"static_addresses", addressSettings(true)};
    return s;
}

// virtual_addresses / excluded_addresses: each entry a string "addr/prefix" or a group.
Setting<VrrpInstance> addresses(std::string_view key, std::vector<VirtualAddress> VrrpInstance::*m, Doc doc,
                                bool documentsSection) {
    auto s = custom<VrrpInstance>(
        key, doc,
        [key, m](Reader& r, const libconfig::Setting& list, VrrpInstance& v) {
            if (!list.isList() && !list.isArray())
                return r.error(list, r.childPath(key), "expected a list of addresses, got " + typeName(list));
            for (int i = 0; i < list.getLength(); ++i) {
                const libconfig::Setting& e = list[i];
                auto path = [&] { return r.childPath(key) + "[" + std::to_string(i) + "]"; };
                VirtualAddress va;
                if (e.getType() == libconfig::Setting::TypeString) {
                    if (parsePrefix(r, e, path(), static_cast<const char*>(e), va)) (v.*m).push_back(va);
                } else if (e.isGroup()) {
                    Reader g(r, e, key, i);
                    const size_t before = r.diags().size();
                    readSection(g, virtualAddress(), va);
                    if (r.diags().size() == before) (v.*m).push_back(va);
                } else {
                    r.error(e, path(), "expected an address string or a group { address = ...; }, got " + typeName(e));
                }
            }
        },
        [key, m](Out& o, const VrrpInstance& v) {
            const auto& items = v.*m;
            if (items.empty()) return;
            o.open(std::string(key) + " = (");
            for (size_t i = 0; i < items.size(); ++i) {
                o.open("{");
                writeSection(o, virtualAddress(), items[i]);
                o.close(i + 1 < items.size() ? "}," : "}");
            }
            o.close(");");
        });
    if (documentsSection) s.nested = [](std::vector<DocRow>& out) { appendRows(virtualAddress(), out); };
    return s;
}

std::vector<Setting<VirtualRoute>> routeSettings() {
    using R = VirtualRoute;
    return
        {
            required(custom<R>(
                "to", {"string", "required", "`ADDRESS/LEN`, `default`", "the destination"},
                [](Reader& r, const libconfig::Setting& st, R& x) {
                    auto t = r.string(st, "to", false);
                    if (!t) return;
                    if (*t == "default") x.to = *base::IpPrefix::parse("0.0.0.0/0");
                    else if (auto p = base::IpPrefix::parse(*t)) x.to = *p;
                    else if (auto a = base::IpAddress::parse(*t)) x.to = base::IpPrefix{*a, a->isV4() ? 32 : 128};
                    else r.error(st, r.childPath("to"), "'" + *t + "' is not ADDRESS/LEN or default");
                },
                [](Out& o, const R& x) { o.set("to", quote(x.to.str())); })),
            address("via", &R::via, {"string", "none", "address", "the gateway"}),
            address("src", &R::src, {"string", "none", "address", "the preferred source address"}),
            string("dev", &R::dev,
                   {"string", "virtual_routes: the instance's interface; static_routes: the kernel's choice",
                    "interface name", "the route's interface"}),
            integer("table", &R::table, 0, 2147483647, {"integer", "`0` (main)", "0..2147483647", "routing table"}),
            integer("metric", &R::metric, 0, 2147483647, {"integer", "the kernel's", "0..2147483647", "the route's metric"}),
            choice<R, std::string>("scope", &R::scope,
                                   {{"global", "global"}, {"site", "site"}, {"link", "link"}, {"host", "host"}},
                                   {"string", "the kernel's", "`global` `site` `link` `host`", "the route's scope"}),
            choice<R, std::string>("type", &R::type,
                                   {{"unicast", "unicast"},
                                    {"blackhole", "blackhole"},
                                    {"unreachable", "unreachable"},
                                    {"prohibit", "prohibit"}},
                                   {"string", "`\"unicast\"`", "`unicast` `blackhole` `unreachable` `prohibit`",
                                    "the route's type"}),
        };
}

void checkRoute(Reader& r, VirtualRoute& x) {
    if (x.type != "unicast" && x.via) r.error("a " + x.type + " route has no gateway");
    if (x.via && x.via->family() != x.to.address.family()) r.error("via is not of the destination's family");
}

const Section<VirtualRoute>& virtualRoute() {
    static const Section<VirtualRoute> s{"vrrp_instances.virtual_routes", routeSettings(), nullptr, checkRoute};
    return s;
}

const Section<VirtualRoute>& staticRoute() {
    static const Section<VirtualRoute> s{"static_routes", routeSettings(), nullptr, checkRoute};
    return s;
}

std::vector<Setting<VirtualRule>> ruleSettings() {
    using R = VirtualRule;
    auto prefix = [](const char* key, std::optional<base::IpPrefix> R::*m, const char* what) {
        return custom<R>(
            key, {"string", "any", "`ADDRESS[/LEN]`", what},
            [key, m](Reader& r, const libconfig::Setting& st, R& x) {
                auto t = r.string(st, key, false);
                if (!t) return;
                if (auto p = base::IpPrefix::parse(*t)) x.*m = *p;
                else if (auto a = base::IpAddress::parse(*t)) x.*m = base::IpPrefix{*a, a->isV4() ? 32 : 128};
                else r.error(st, r.childPath(key), "'" + *t + "' is not ADDRESS or ADDRESS/LEN");
            },
            [key, m](Out& o, const R& x) {
                if (x.*m) o.set(key, quote((x.*m)->str()));
            });
    };
    return {
        prefix("from", &R::from, "the packets' source"),
        prefix("to", &R::to, "the packets' destination"),
        choice<R, base::Family>("family", &R::family, {{"ipv4", base::Family::V4}, {"ipv6", base::Family::V6}},
                                {"string", "from / to's, else `\"ipv4\"`", "`ipv4` `ipv6`",
                                 "the rule list, when neither from nor to says"}),
        integer("priority", &R::priority, 0, 4294967295LL,
                {"integer", "the kernel's", "0..4294967295", "the rule's preference (lower first)"}),
        integer("table", &R::table, 0, 2147483647, {"integer", "required with `table`", "1..2147483647", "the table looked up"}),
        choice<R, std::string>("action", &R::action,
                               {{"table", "table"},
                                {"blackhole", "blackhole"},
                                {"unreachable", "unreachable"},
                                {"prohibit", "prohibit"}},
                               {"string", "`\"table\"`", "`table` `blackhole` `unreachable` `prohibit`",
                                "look up `table`, or drop (silently, with host unreachable, with prohibited)"}),
        integer("fwmark", &R::fwmark, 0, 4294967295LL, {"integer", "any", "0..4294967295", "the packets' mark"}),
        integer("fwmask", &R::fwmask, 0, 4294967295LL, {"integer", "all bits", "0..4294967295", "with fwmark: the bits compared"}),
        string("iif", &R::iif, {"string", "any", "interface name", "the interface the packets came in on"}),
        string("oif", &R::oif, {"string", "any", "interface name", "the interface the packets go out on (a bound socket's)"}),
        integer("tos", &R::tos, 0, 255, {"integer", "any", "0..255", "the packets' TOS"}),
    };
}

void checkRule(Reader& r, VirtualRule& x) {
    if (x.from && x.to && x.from->address.family() != x.to->address.family())
        r.error("from and to are not of the same family");
    if (x.from) x.family = x.from->address.family();
    else if (x.to) x.family = x.to->address.family();
    if (x.action == "table" && x.table == 0) r.error("missing required setting 'table' (or an action other than table)");
    if (x.action != "table" && x.table != 0) r.error("a " + x.action + " rule looks up no table");
    if (x.fwmask && !x.fwmark) r.error("fwmask needs fwmark");
}

const Section<VirtualRule>& virtualRule() {
    static const Section<VirtualRule> s{"vrrp_instances.virtual_rules", ruleSettings(), nullptr, checkRule};
    return s;
}

const Section<VirtualRule>& staticRule() {
    static const Section<VirtualRule> s{"static_rules", ruleSettings(), nullptr, checkRule};
    return s;
}

const Section<TrackInterface>& trackInterface() {
    using T = TrackInterface;
    static const Section<T> s{
        "vrrp_instances.track_interfaces",
        {
            nonEmpty("interface", &T::interface, {"string", "required", "interface name", "tracked interface"}),
            integer(
                "weight", &T::weight, -253, 253,
                {"integer", "`0`", "-253..253",
                 "0: link down puts the instance in FAULT; otherwise added to priority while down (<0) or up (>0)"}),
        }};
    return s;
}

constexpr long long kFileWeight = 2147483647;  // keepalived: -2147483647..2147483647

const Section<TrackFile>& trackFile() {
    using F = TrackFile;
    static const Section<F> s{
        "track_files",
        {
            nonEmpty("name", &F::name,
                     {"string", "required", "unique", "name `file` checks and instances' `track_files` refer to"}),
            custom<F>(
                "file", {"string", "required", "an absolute path in an existing directory", "the file watched"},
                [](Reader& r, const libconfig::Setting& st, F& f) {
                    auto p = r.string(st, "file", false);
                    if (!p) return;
                    f.path = *p;
                    if ((*p)[0] != '/') r.error(st, r.childPath("file"), "an absolute path (it is watched, not read once)");
                },
                [](Out& o, const F& f) { o.set("file", quote(f.path)); }),
            integer("weight", &F::weight, -kFileWeight, kFileWeight,
                    {"integer", "`1`", "-2147483647..2147483647",
                     "the value is multiplied by it and added to the weight or priority; 0: a non-zero value is "
                     "down / FAULT"}),
            boolean("reverse", &F::reverse,
                    {"bool", "`false`", "", "multiply by -1 too (weight 0: a zero value is down)"}),
            integer("init_file", &F::initValue, INT32_MIN, INT32_MAX,
                    {"integer", "none", "-2^31..2^31-1", "written to the file at start when it does not exist"}),
            boolean("init_overwrite", &F::initOverwrite,
                    {"bool", "`false`", "", "with `init_file`: written at start even when the file exists"}),
        },
        nullptr,
        [](Reader& r, F& f) {
            if (f.path.empty()) r.error("missing required setting 'file'");
            if (f.initOverwrite && !f.initValue) r.error("init_overwrite needs init_file (the value written)");
        },
        [](F& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<TrackProcess>& trackProcess() {
    using P = TrackProcess;
    using M = P::ParamMatch;
    static const Section<P> s{
        "track_processes",
        {
            nonEmpty("name", &P::name, {"string", "required", "unique", "name instances' `track_processes` refer to"}),
            nonEmpty("process", &P::process,
                     {"string", "required", "a name of at most 15 characters, or a command with `full_command`",
                      "the process name (as `ps -o comm`, /proc/PID/comm) or, with `full_command` or `params`, "
                      "argv[0] exactly (as started: a path if started by path)"}),
            stringList("params", &P::params,
                       {"array of strings", "`[]`", "",
                        "arguments that must follow argv[0] (implies `full_command`; `param_match` says how)"}),
            choice("param_match", &P::paramMatch,
                   {{"exact", M::Exact}, {"partial", M::Partial}, {"initial", M::Initial}},
                   {"string", "`exact` with `params`, else arguments are not looked at", "exact, partial, initial",
                    "exact: these arguments and no more; partial: these first, more may follow; initial: as partial, "
                    "the last one may be longer (implies `full_command`)"}),
            boolean("full_command", &P::fullCommand,
                    {"bool", "`false`", "", "match argv[0] of the command line instead of the process name"}),
            integer("quorum", &P::quorum, 1, 65535,
                    {"integer", "`1`", "1..65535", "fewest matching processes for up"}),
            integer("quorum_max", &P::quorumMax, 0, 65535,
                    {"integer", "none (no limit)", "0..65535",
                     "most matching processes for up (0: up only while none runs, whatever `quorum`)"}),
            duration("fork_delay", &P::forkDelay, 0, 3600,
                     {"duration", "`0`", "0..3600", "a quorum reached by a fork counts as up after this"}),
            duration("terminate_delay", &P::terminateDelay, 0, 3600,
                     {"duration", "`0`", "0..3600", "a quorum lost by an exit counts as down after this"}),
            integer("weight", &P::weight, -254, 254,
                    {"integer", "`0`", "-254..254",
                     "instances' `track_processes`: 0: not up is FAULT; >0 added to priority while up, <0 while not"}),
            boolean("reverse", &P::reverse,
                    {"bool", "`false`", "", "instances' `track_processes`: count up as down and down as up"}),
        },
        nullptr,
        [](Reader& r, P& p) {
            if (!p.params.empty() && p.paramMatch == M::None) p.paramMatch = M::Exact;
            if (p.paramMatch != M::None) p.fullCommand = true;
            if (!p.fullCommand && p.process.size() > 15)
                r.error("process '" + p.process +
                        "' is longer than 15 characters: the kernel keeps a process name to 15 (set full_command to "
                        "match the command line's argv[0])");
            if (p.quorumMax && *p.quorumMax > 0 && *p.quorumMax < p.quorum)
                r.error("quorum_max " + std::to_string(*p.quorumMax) + " is less than quorum " + std::to_string(p.quorum));
        },
        [](P& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<TrackProcessRef>& trackProcessRef() {
    using T = TrackProcessRef;
    static const Section<T> s{
        "vrrp_instances.track_processes",
        {
            nonEmpty("track_process", &T::process,
                     {"string", "required", "a `track_processes` name", "the tracked process kind"}),
            integer("weight", &T::weight, -254, 254,
                    {"integer", "the track process's `weight`", "-254..254",
                     "overrides it: 0: not up is FAULT; >0 added while up; <0 added while not"}),
            boolean("reverse", &T::reverse, {"bool", "the track process's `reverse`", "", "overrides it"}),
        },
        nullptr,
        nullptr,
        [](T& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<BfdInstance>& bfdInstance() {
    using B = BfdInstance;
    static const Section<B> s{
        "bfd_instances",
        {
            nonEmpty("name", &B::name, {"string", "required", "unique", "name `bfd` checks refer to"}),
            required(address("neighbor_ip", &B::neighbor, {"string", "required", "address", "the BFD peer"})),
            address("source_ip", &B::source,
                    {"string", "the route's", "address", "sent from, and the only address it is accepted on"}),
            duration("min_rx", &B::minRx, 0.001, 4294,
                     {"duration", "`0.01`", "0.001..4294", "Required Min RX: the fastest the peer may send"}),
            duration("min_tx", &B::minTx, 0.001, 4294,
                     {"duration", "`0.01`", "0.001..4294", "Desired Min TX while the session is Up"}),
            duration("idle_tx", &B::idleTx, 1, 4294,
                     {"duration", "`1`", "1..4294", "Desired Min TX while it is not (RFC 5880: at least 1 s)"}),
            integer("multiplier", &B::multiplier, 1, 255,
                    {"integer", "`5`", "1..255", "Detect Mult: packets missed before the peer is down"}),
            boolean("passive", &B::passive, {"bool", "`false`", "", "send nothing until the peer's first packet"}),
            integer("ttl", &B::ttl, 1, 255, {"integer", "`255`", "1..255", "TTL / hop limit sent (RFC 5881: 255)"}),
            integer("max_hops", &B::maxHops, -1, 255,
                    {"integer", "`0`", "-1..255",
                     "a packet counts when its TTL + max_hops >= `ttl` (0: single hop, TTL 255); -1: any TTL"}),
            boolean("multihop", &B::multihop, {"bool", "`false`", "", "RFC 5883 multihop BFD (port 4784)"}),
            integer("weight", &B::weight, -253, 253,
                    {"integer", "`0`", "-253..253",
                     "instances' `track_bfds`: 0: down is FAULT; >0 added to priority while Up, <0 while not"}),
            boolean("reverse", &B::reverse,
                    {"bool", "`false`", "", "instances' `track_bfds`: count Up as down and down as Up"}),
        },
        nullptr,
        [](Reader& r, B& b) {
            if (b.source && b.neighbor && b.source->family() != b.neighbor->family())
                r.error("source_ip and neighbor_ip are not of the same family");
            if (b.maxHops > b.ttl) r.error("max_hops " + std::to_string(b.maxHops) + " exceeds ttl " + std::to_string(b.ttl));
        },
        [](B& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<TrackBfdRef>& trackBfdRef() {
    using T = TrackBfdRef;
    static const Section<T> s{
        "vrrp_instances.track_bfds",
        {
            nonEmpty("bfd", &T::bfd, {"string", "required", "a `bfd_instances` name", "the BFD session tracked"}),
            integer("weight", &T::weight, -253, 253,
                    {"integer", "the BFD instance's `weight`", "-253..253",
                     "overrides it: 0: not Up is FAULT; >0 added while Up; <0 added while not"}),
            boolean("reverse", &T::reverse, {"bool", "the BFD instance's `reverse`", "", "overrides it"}),
        },
        nullptr,
        nullptr,
        [](T& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<TrackFileRef>& trackFileRef() {
    using T = TrackFileRef;
    static const Section<T> s{
        "vrrp_instances.track_files",
        {
            nonEmpty("track_file", &T::file, {"string", "required", "a `track_files` name", "the tracked file"}),
            integer("weight", &T::weight, -254, 254,
                    {"integer", "the track file's `weight`", "-254..254",
                     "overrides it: value x weight is added to the priority (-254 or less: FAULT)"}),
            boolean("reverse", &T::reverse, {"bool", "the track file's `reverse`", "", "overrides it"}),
        },
        nullptr,
        nullptr,
        [](T& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<TrackScript>& trackScript() {
    using T = TrackScript;
    static const Section<T> s{
        "vrrp_instances.track_scripts",
        {
            nonEmpty("script", &T::script, {"string", "required", "a `vrrp_scripts` name", "the tracked script"}),
            integer(
                "weight", &T::weight, -253, 253,
                {"integer", "the script's `weight`", "-253..253", "overrides the script's weight for this instance"}),
        },
        nullptr,
        nullptr,
        [](T& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<GarpConfig>& garp() {
    using G = GarpConfig;
    static const Section<G> s{
        "vrrp_instances.garp",
        {
            duration("master_delay", &G::masterDelay, 0, 3600,
                     {"duration", "`5`", "0..3600", "a second burst this long after becoming master"}),
            integer("master_repeat", &G::masterRepeat, 0, 100,
                    {"integer", "`5`", "0..100", "gratuitous ARPs / NAs per address per burst"}),
            duration("master_refresh", &G::masterRefresh, 0, kDay,
                     {"duration", "`0`", "0..86400", "while master, repeat a burst this often; 0: never"}),
            integer("master_refresh_repeat", &G::masterRefreshRepeat, 1, 100,
                    {"integer", "`1`", "1..100", "messages per address per refresh"}),
            duration("interval", &G::interval, 0, 10,
                     {"duration", "`0`", "0..10", "gap between two messages of a burst"}),
            integer("lower_prio_repeat", &G::lowerPrioRepeat, 0, 100,
                    {"integer", "`master_repeat`", "0..100",
                     "as master, hearing a lower-priority master: messages per address at once, and once more "
                     "when it has been quiet for three advert intervals (keepalived's garp_lower_prio_repeat, "
                     "which has no second burst; 0: none)"}),
            duration("lower_prio_delay", &G::lowerPrioDelay, 0, 3600,
                     {"duration", "`master_delay`", "0..3600",
                      "... and again this long after (keepalived's garp_lower_prio_delay; 0: not again)"}),
            boolean("defend", &G::defend,
                    {"bool", "`true`", "",
                     "as master, answer another host's claim of a virtual address (an ARP, or an IPv6 neighbour "
                     "advertisement, from another MAC: a second master "
                     "our adverts do not reach; an address conflict) with `lower_prio_repeat` announcements "
                     "once its claims have stopped for three advert intervals, unless a router heard since "
                     "start outranks us (at most 3 per 30 s; not in keepalived)"}),
        }};
    return s;
}

const Section<VmacConfig>& vmac() {
    using M = VmacConfig;
    static const Section<M> s{
        "vrrp_instances.vmac",
        {
            custom<M>(
                "name", {"string", "`\"vrrp.VRID\"`", "an interface name (1..15 characters)",
                         "the macvlan's name (keepalived's use_vmac NAME)"},
                [](Reader& r, const libconfig::Setting& st, M& m) {
                    auto n = r.string(st, "name", false);
                    if (!n) return;
                    if (n->size() > 15 || n->find_first_of("/ :\t") != std::string::npos || *n == "." || *n == "..")
                        return r.error(st, r.childPath("name"), "'" + *n + "' is not an interface name (at most 15 "
                                                                "characters, no '/', ':' or blanks)");
                    m.name = *n;
                },
                [](Out& o, const M& m) {
                    if (!m.name.empty()) o.set("name", quote(m.name));
                }),
            boolean("xmit_base", &M::xmitBase,
                    {"bool", "`false`", "",
                     "adverts go from the instance's interface, not the macvlan (keepalived's vmac_xmit_base; "
                     "implied with unicast peers)"}),
        }};
    return s;
}

const Section<VrrpInstance>& vrrpInstance() {
    using V = VrrpInstance;
    static const Section<V> s{
        "vrrp_instances",
        {
            nonEmpty("name", &V::name,
                     {"string", "required", "unique", "instance name (logs, notify, sync groups, SNMP)"}),
            nonEmpty("interface", &V::interface,
                     {"string", "required", "interface name", "interface adverts are sent and received on"}),
            required(integer("virtual_router_id", &V::vrid, 1, 255,
                             {"integer", "required", "1..255", "VRID; unique per interface and family"})),
            integer("priority", &V::priority, 1, 255,
                    {"integer", "`100`", "1..255", "255 = address owner; higher wins"}),
            integer("version", &V::version, 2, 3, {"integer", "`2`", "2, 3", "VRRP version (RFC 3768 / RFC 5798)"}),
            choice("family", &V::family, kFamilies,
                   {"string", "`\"ipv4\"`", "`ipv4` `ipv6`", "address family (IPv6 needs version 3)"}),
            custom<V>(
                "advert_interval", {"duration", "`1`", "v2: whole 1..255; v3: 0.01..40.95", "advertisement interval"},
                [](Reader& r, const libconfig::Setting& st, V& v) {
                    auto iv = r.seconds(st, "advert_interval", 0.01, 255);
                    if (!iv) return;
                    const auto whole = std::chrono::duration_cast<std::chrono::seconds>(*iv);
                    if (v.version == 2 && (*iv < std::chrono::seconds(1) || whole != *iv))
                        r.error(st, r.childPath("advert_interval"),
                                "VRRPv2 advertises whole seconds (1..255); use version = 3 for sub-second intervals");
                    else if (v.version == 3 && *iv > std::chrono::milliseconds(40950))
                        r.error(st, r.childPath("advert_interval"), "VRRPv3 intervals are at most 40.95 s");
                    else v.advertInterval = *iv;
                },
                [](Out& o, const V& v) { o.set("advert_interval", seconds(v.advertInterval)); }),
            choice("state", &V::initialMaster, {{"MASTER", true}, {"BACKUP", false}},
                   {"string", "`\"BACKUP\"`", "`MASTER` `BACKUP`", "start-up hint; the election decides"}),
            boolean("nopreempt", &V::nopreempt,
                    {"bool", "`false`", "", "a higher-priority backup does not take over from a running master"}),
            duration("preempt_delay", &V::preemptDelay, 0, 1000,
                     {"duration", "`0`", "0..1000", "wait this long after start-up before preempting"}),
            groupSelf("authentication", authentication(), {"group", "none", "", "VRRPv2 authentication"},
                      [](const V& v) { return v.authType != AuthType::None; }),
            group("auth_hmac", &V::authHmac, authHmac(),
                  {"group", "none", "",
                   "keepalived 2.4's HMAC-SHA256 trailer on every advert (v2 and v3, IPv4 and IPv6); instead of "
                   "`authentication`"},
                  [](V& v) { v.authHmac.enabled = true; }, [](const V& v) { return v.authHmac.enabled; }),
            addresses("virtual_addresses", &V::virtualAddresses,
                      {"list", "none", "", "VIPs, each a string `\"addr/prefix\"` or a group"}, true),
            addresses("excluded_addresses", &V::excludedAddresses,
                      {"list", "none", "", "addresses added on MASTER but not carried in adverts (same forms)"}, false),
            address("unicast_source", &V::unicastSource,
                    {"string", "interface's primary", "address", "source of unicast adverts"}),
            addressList("unicast_peers", &V::unicastPeers,
                        {"array of strings", "none: multicast", "addresses",
                         "send adverts to these peers instead of 224.0.0.18 / ff02::12"}),
            list("advert_paths", &V::advertPaths, advertPath(),
                 {"list of groups", "none", "",
                  "more paths for the same adverts (directord's own): a backup takes over only when every path "
                  "has been silent for the master-down interval, so one lost link is no split brain"}),
            integer("unicast_ttl", &V::unicastTtl, 1, 255,
                    {"int", "unset: 255 sent, any TTL from a peer", "1..255",
                     "unicast: the TTL / hop limit adverts are sent with, and the one a peer's must arrive with"}),
            boolean("unicast_fault_no_peer", &V::unicastFaultNoPeer,
                    {"bool", "`false`", "",
                     "with no `unicast_peers` the instance is FAULT instead of multicast (keepalived's; for a "
                     "config whose peers come and go by reload)"}),
            boolean("dont_track_primary", &V::dontTrackPrimary,
                    {"bool", "`false`", "", "the instance's own interface going down is not a FAULT (keepalived's)"}),
            list("track_interfaces", &V::trackInterfaces, trackInterface(),
                 {"list of groups", "none", "", "interfaces whose link state counts"}),
            list("track_scripts", &V::trackScripts, trackScript(),
                 {"list of groups", "none", "", "`vrrp_scripts` whose results count"}),
            list("track_files", &V::trackFiles, trackFileRef(),
                 {"list of groups", "none", "", "`track_files` whose values count"}),
            list("track_bfds", &V::trackBfds, trackBfdRef(),
                 {"list of groups", "none", "", "BFD sessions (`bfd_instances`) whose state counts"}),
            list("track_processes", &V::trackProcesses, trackProcessRef(),
                 {"list of groups", "none", "", "`track_processes` whose quorum counts"}),
            list("virtual_rules", &V::virtualRules, virtualRule(),
                 {"list of groups", "none", "", "policy routing rules added on MASTER, removed on leaving it"}),
            list("virtual_routes", &V::virtualRoutes, virtualRoute(),
                 {"list of groups", "none", "", "routes added while MASTER, as the VIPs are"}),
            group("garp", &V::garp, garp(), {"group", "", "", "gratuitous ARP / unsolicited NA on becoming master"}),
            group("vmac", &V::vmac, vmac(),
                  {"group", "none", "",
                   "the VIPs go on a macvlan with the VRRP virtual MAC (keepalived's use_vmac): a failover moves no "
                   "MAC"},
                  [](V& v) { v.vmac.enabled = true; }, [](const V& v) { return v.vmac.enabled; }),
            group("notify", &V::notify, instanceNotify(), {"group", "none", "", "scripts run on transitions"}, nullptr,
                  [](const V& v) { return v.notify != NotifyConfig{}; }),
            command("notify_master_rx_lower_pri", &V::notifyMasterRxLowerPri,
                    {"command", "none", "",
                     "run (no arguments) when this master hears a lower-priority master, at most once per advert "
                     "interval; the fifo gets `INSTANCE \"name\" MASTER_RX_LOWER_PRI priority` (keepalived's)"}),
            boolean("smtp_alert", &V::smtpAlert,
                    {"bool", "`false`", "",
                     "mail (`global.smtp`) when the instance enters MASTER, BACKUP, FAULT or stops"}),
            boolean("lower_prio_no_advert", &V::lowerPrioNoAdvert,
                    {"bool", "`false`", "",
                     "as master, do not answer a lower priority master's advert (keepalived's); by default it is "
                     "answered at once, with the addresses announced again"}),
            boolean("higher_prio_send_advert", &V::higherPrioSendAdvert,
                    {"bool", "`true`", "",
                     "as master, send an advert as it yields to a higher priority one, and twice more a quarter "
                     "interval apart while it stays backup (the winner announces the VIPs again for the clients "
                     "that followed this one; one lost advert no longer leaves them here). keepalived's sends one, "
                     "and is off there by default; the import writes keepalived's value"}),
            boolean("accept_mode", &V::acceptMode,
                    {"bool", "`true`", "",
                     "RFC 5798 Accept_Mode: `false` (keepalived's no_accept): a master that is not the owner "
                     "(priority 255) holds its VIPs but drops what is addressed to them or sent from them (IPv6 "
                     "neighbour discovery excepted), with nftables rules in tables `directord_vrrp`"}),
            choice("v3_checksum", &V::checksumPseudoHeader,
                   {{"with-pseudo-header", true}, {"without-pseudo-header", false}},
                   {"string", "`\"with-pseudo-header\"`", "`with-pseudo-header` `without-pseudo-header`",
                    "v3 over IPv4: send the checksum with the pseudo-header (keepalived, FRR) or without (RFC 9568); "
                    "both are accepted"}),
        },
        nullptr,
        nullptr,
        [](V& x, const Location& l) { x.where = l; }};
    return s;
}

const Section<SyncGroup>& syncGroup() {
    using S = SyncGroup;
    static const Section<S> s{
        "vrrp_sync_groups",
        {
            nonEmpty("name", &S::name, {"string", "required", "unique", "group name"}),
            required(stringList("members", &S::members,
                                {"array of strings", "required", "instance names, each in one group",
                                 "instances that change state together"})),
            group("notify", &S::notify, groupNotify(),
                  {"group", "none", "", "as for instances, with `GROUP <name>` arguments"}, nullptr,
                  [](const S& g) { return g.notify != NotifyConfig{}; }),
            boolean("smtp_alert", &S::smtpAlert,
                    {"bool", "`false`", "", "mail (`global.smtp`) when the group enters MASTER, BACKUP, FAULT or stops"}),
        },
        nullptr,
        nullptr,
        [](S& x, const Location& l) { x.where = l; }};
    return s;
}

// ---- virtual servers ----

const Section<Tunnel>& tunnel() {
    using T = Tunnel;
    static const Section<T> s{
        "virtual_servers.tunnel",
        {
            choice("type", &T::type, {{"ipip", TunnelType::Ipip}, {"gue", TunnelType::Gue}, {"gre", TunnelType::Gre}},
                   {"string", "`\"ipip\"`", "`ipip` `gue` `gre`", "tunnel encapsulation"}),
            integer("port", &T::port, 0, 65535,
                    {"integer", "`0`", "0..65535", "GUE destination port (required for `gue`)"}),
            choice("checksum", &T::checksum,
                   {{"nocsum", TunnelChecksum::NoCsum},
                    {"csum", TunnelChecksum::Csum},
                    {"remcsum", TunnelChecksum::RemCsum}},
                   {"string", "`\"nocsum\"`", "`nocsum` `csum` `remcsum`", "tunnel checksum mode"}),
        },
        nullptr,
        [](Reader& r, T& t) {
            if (t.type == TunnelType::Gue && t.port == 0) r.error("a gue tunnel needs a port");
        }};
    return s;
}

const Section<SorryServer>& sorryServer() {
    using S = SorryServer;
    static const Section<S> s{
        "virtual_servers.sorry_server",
        {
            required(address("address", &S::address, {"string", "required", "address", "the sorry server"})),
            integer("port", &S::port, 0, 65535, {"integer", "the virtual port", "0..65535", "its port"}),
            integer("weight", &S::weight, 0, 65535, {"integer", "`1`", "0..65535", "its weight while in use"}),
            choice("forwarding", &S::forwarding, kForwarding,
                   {"string", "the service's", "`nat` `dr` `tun`", "its forwarding method"}),
        }};
    return s;
}

// A check key that belongs to some check types only: elsewhere "'path' is not a setting of tcp
// checks (it belongs to: http, https)".
Setting<CheckConfig> forTypes(Setting<CheckConfig> s, std::vector<CheckType> types) {
    const std::string key(s.key);
    return onlyIf<CheckConfig>(
        std::move(s),
        [types](const CheckConfig& c) { return std::find(types.begin(), types.end(), c.type) != types.end(); },
        [types, key](const CheckConfig& c) {
            std::string list;
            for (CheckType t : types) list += (list.empty() ? "" : ", ") + std::string(name(t));
            return "'" + key + "' is not a setting of " + name(c.type) + " checks (it belongs to: " + list + ")";
        });
}

std::optional<std::vector<StatusRange>> statusCodes(Reader& r, const libconfig::Setting& s) {
    if (!s.isArray() && !s.isList()) {
        r.error(s, r.childPath("status_codes"),
                "expected an array of codes or \"LOW-HIGH\" ranges, got " + typeName(s));
        return std::nullopt;
    }
    std::vector<StatusRange> v;
    for (int i = 0; i < s.getLength(); ++i) {
        const libconfig::Setting& e = s[i];
        const std::string path = r.childPath("status_codes") + "[" + std::to_string(i) + "]";
        StatusRange range;
        if (e.getType() == libconfig::Setting::TypeInt) {
            range.low = range.high = static_cast<int>(e);
        } else if (e.getType() == libconfig::Setting::TypeString) {
            const std::string t = static_cast<const char*>(e);
            if (std::sscanf(t.c_str(), "%d-%d", &range.low, &range.high) != 2 ||
                t.find_first_not_of("0123456789-") != std::string::npos) {
                r.error(e, path, "'" + t + "' is not a range LOW-HIGH");
                return std::nullopt;
            }
        } else {
            r.error(e, path, "expected a status code or \"LOW-HIGH\", got " + typeName(e));
            return std::nullopt;
        }
        if (range.low < 100 || range.high > 599 || range.low > range.high) {
            r.error(e, path, "HTTP status codes are 100..599, low <= high");
            return std::nullopt;
        }
        v.push_back(range);
    }
    if (v.empty()) {
        r.error(s, r.childPath("status_codes"), "must name at least one code");
        return std::nullopt;
    }
    return v;
}

std::string statusCodesText(const std::vector<StatusRange>& codes) {
    // libconfig arrays hold one type: every entry as a range string when they mix
    bool ranges = false;
    for (const auto& r : codes) ranges |= r.low != r.high;
    std::string out = "[";
    for (size_t i = 0; i < codes.size(); ++i) {
        const auto& r = codes[i];
        out += (i ? ", " : " ") +
               (ranges ? quote(std::to_string(r.low) + "-" + std::to_string(r.high)) : std::to_string(r.low));
    }
    return out + " ]";
}

// Why `name` cannot be asked in a DNS question (nullopt: it can). "." and "" are the root.
std::optional<std::string> dnsNameProblem(const std::string& name) {
    if (name.empty() || name == ".") return std::nullopt;
    std::string n = name.back() == '.' ? name.substr(0, name.size() - 1) : name;
    if (n.size() > 253) return "a domain name has at most 253 characters";
    size_t start = 0;
    while (true) {
        const size_t dot = n.find('.', start);
        const size_t len = (dot == std::string::npos ? n.size() : dot) - start;
        if (len == 0) return "'" + name + "' has an empty label";
        if (len > 63) return "a label has at most 63 characters";
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return std::nullopt;
}

const Section<CheckConfig>& check() {
    using C = CheckConfig;
    using T = CheckType;
    // the checks with a socket of their own (ping shares one per family; script and file have none)
    const std::vector<T> kSocketChecks = {T::Tcp, T::Http, T::Https, T::Smtp, T::Udp, T::Dns, T::Grpc};
    static const Section<C> s{
        "virtual_servers.real_servers.checks",
        {
            required(choice("type", &C::type,
                            {{"tcp", T::Tcp},
                             {"http", T::Http},
                             {"https", T::Https},
                             {"script", T::Script},
                             {"udp", T::Udp},
                             {"dns", T::Dns},
                             {"smtp", T::Smtp},
                             {"ping", T::Ping},
                             {"file", T::File},
                             {"grpc", T::Grpc},
                             {"bfd", T::Bfd}},
                            {"string", "required", "`tcp` `http` `https` `script` `udp` `dns` `smtp` `ping` `file` `grpc` `bfd`",
                             "the probe"})),
            duration("delay_loop", &C::delayLoop, 0.01, kDay,
                     {"duration", "the service's", "0.01..86400", "interval between checks"}),
            duration(
                "connect_timeout", &C::connectTimeout, 0.01, 3600,
                {"duration", "the service's", "0.01..3600", "connect (and, unless `read_timeout`, response) timeout"}),
            integer("retry", &C::retry, 0, 100,
                    {"integer", "the service's", "0..100", "retries before a failure counts"}),
            duration("delay_before_retry", &C::delayBeforeRetry, 0, 3600,
                     {"duration", "the service's", "0..3600", "wait before a retry"}),
            duration("warmup", &C::warmup, 0, kDay,
                     {"duration", "the service's", "0..86400", "random delay before the first check"}),
            integer("rise", &C::rise, 1, 1000, {"integer", "`1`", "1..1000", "successes in a row to come up"}),
            integer("fall", &C::fall, 1, 1000, {"integer", "`1`", "1..1000", "failures in a row to go down"}),
            address("connect_ip", &C::connectIp,
                    {"string", "the real server's", "address", "check this address instead"}),
            integer("connect_port", &C::connectPort, 1, 65535,
                    {"integer", "the real server's", "1..65535", "check this port instead"}),
            address("bind_ip", &C::bindIp, {"string", "none", "address", "source address of the check"}),
            forTypes(integer("bind_port", &C::bindPort, 0, 65535,
                             {"integer", "`0` (any)", "0..65535", "source port of the check (keepalived's `bind_port`)"}),
                     kSocketChecks),
            forTypes(custom<C>(
                         "bind_interface",
                         {"string", "none", "interface name",
                          "the check's socket is bound to it (SO_BINDTODEVICE); needed for a link-local `connect_ip` "
                          "(keepalived's `bind_if`)"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto t = r.string(st, "bind_interface");
                             if (!t) return;
                             if (t->size() > 15 || t->find_first_of("/ \t") != std::string::npos)
                                 r.error(st, r.childPath("bind_interface"),
                                         "an interface name is 1..15 characters with no '/' or spaces");
                             else c.bindInterface = *t;
                         },
                         [](Out& o, const C& c) {
                             if (!c.bindInterface.empty()) o.set("bind_interface", quote(c.bindInterface));
                         }),
                     kSocketChecks),
            forTypes(integer("fwmark", &C::fwmark, 0, 4294967295LL,
                             {"integer", "`0` (none)", "0..4294967295",
                              "firewall mark on the check's packets (SO_MARK), for policy routing"}),
                     kSocketChecks),
            boolean("log_all_failures", &C::logAllFailures,
                    {"bool", "`false`", "", "log every failed attempt, not only up/down (keepalived's `log_all_failures`)"}),
            forTypes(custom<C>(
                         "path", {"string", "`\"/\"`", "starts with `/`", "http/https: the request path"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto p = r.string(st, "path", false);
                             if (!p) return;
                             c.path = *p;
                             if ((*p)[0] != '/') r.error(st, r.childPath("path"), "a path starts with '/'");
                         },
                         [](Out& o, const C& c) { o.set("path", quote(c.path)); }),
                     {T::Http, T::Https}),
            forTypes(custom<C>(
                         "status_codes",
                         {"array", "`[ \"200-299\" ]`", "codes 100..599 or `\"LOW-HIGH\"`",
                          "http/https: healthy status codes"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             if (auto v = statusCodes(r, st)) c.statusCodes = std::move(*v);
                         },
                         [](Out& o, const C& c) { o.set("status_codes", statusCodesText(c.statusCodes)); }),
                     {T::Http, T::Https}),
            forTypes(custom<C>(
                         "digest",
                         {"string", "none", "32 hex digits",
                          "http/https: MD5 of the body, as `directord --genhash URL` (and keepalived's genhash) print"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto d = r.string(st, "digest");
                             if (!d) return;
                             if (d->size() != 32 || d->find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                                 r.error(st, r.childPath("digest"),
                                         "an MD5 digest is 32 hex digits (directord --genhash URL prints it)");
                             for (auto& ch : *d) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                             c.digest = *d;
                         },
                         [](Out& o, const C& c) {
                             if (!c.digest.empty()) o.set("digest", quote(c.digest));
                         }),
                     {T::Http, T::Https}),
            forTypes(custom<C>(
                         "regex_options",
                         {"array of strings", "`[]`", "keepalived's names: `caseless` `multiline` `dotall` ...",
                          "http/https: PCRE2 options of `regex`"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto v = r.strings(st, "regex_options");
                             if (!v) return;
                             const auto& known = base::Regex::optionNames();
                             for (const auto& o : *v)
                                 if (std::find(known.begin(), known.end(), o) == known.end())
                                     r.error(st, r.childPath("regex_options"), "unknown regex option '" + o + "'");
                                 else c.regexOptions.push_back(o);
                         },
                         [](Out& o, const C& c) {
                             if (!c.regexOptions.empty()) o.set("regex_options", strings(c.regexOptions));
                         }),
                     {T::Http, T::Https}),
            forTypes(custom<C>(
                         "regex",
                         {"string", "none", "PCRE2 (keepalived's engine)",
                          "http/https: the body (with `regex_headers`, the whole response) must match"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto re = r.string(st, "regex", false);
                             if (!re) return;
                             c.regex = *re;
                             std::string why;  // regex_options is read first: the pattern compiles with them
                             if (!base::Regex::compile(*re, c.regexOptions, why))
                                 r.error(st, r.childPath("regex"), "not a PCRE2 regex: " + why);
                         },
                         [](Out& o, const C& c) {
                             if (!c.regex.empty()) o.set("regex", quote(c.regex));
                         }),
                     {T::Http, T::Https}),
            forTypes(integer("regex_min_offset", &C::regexMinOffset, 0, 1 << 30,
                             {"integer", "`0`", "0..1073741824", "http/https: a match starts at this offset or after"}),
                     {T::Http, T::Https}),
            forTypes(integer("regex_max_offset", &C::regexMaxOffset, 0, 1 << 30,
                             {"integer", "none", "0..1073741824", "http/https: a match starts at this offset or before"}),
                     {T::Http, T::Https}),
            forTypes(boolean("regex_headers", &C::regexHeaders,
                             {"bool", "`false`", "",
                              "http/https: the regex sees the status line and headers before the body, and offsets "
                              "count from the response's start (keepalived's way)"}),
                     {T::Http, T::Https}),
            forTypes(boolean("regex_no_match", &C::regexNoMatch,
                             {"bool", "`false`", "", "http/https: healthy when the regex does not match"}),
                     {T::Http, T::Https}),
            forTypes(string("virtualhost", &C::virtualhost,
                            {"string", "the service's", "", "http/https: Host header; grpc: the :authority"}),
                     {T::Http, T::Https, T::Grpc}),
            forTypes(choice<C, std::string>("http_version", &C::httpVersion, {{"1.0", "1.0"}, {"1.1", "1.1"}},
                                            {"string", "`\"1.0\"`", "`1.0` `1.1`", "http/https: request version"}),
                     {T::Http, T::Https}),
            forTypes(integer("max_body", &C::maxBody, 0, 1 << 30,
                             {"integer", "`1048576`", "0..1073741824", "http/https: bytes of body read at most"}),
                     {T::Http, T::Https}),
            forTypes(duration("read_timeout", &C::readTimeout, 0.01, 3600,
                              {"duration", "`connect_timeout`", "0.01..3600", "http/https/smtp/grpc: response timeout"}),
                     {T::Http, T::Https, T::Smtp, T::Grpc}),
            forTypes(boolean("http2", &C::http2,
                             {"bool", "`false`", "",
                              "http/https: HTTP/2 (prior knowledge over TCP, ALPN `h2` over TLS)"}),
                     {T::Http, T::Https}),
            forTypes(string("service", &C::grpcService,
                            {"string", "`\"\"` (the whole server)", "",
                             "grpc: the service name asked of grpc.health.v1.Health/Check"}),
                     {T::Grpc}),
            forTypes(boolean("tls", &C::tls, {"bool", "`false`", "", "grpc: over TLS (ALPN `h2`), with the https settings"}),
                     {T::Grpc}),
            forTypes(string("sni", &C::sni, {"string", "the virtualhost", "", "https, grpc with tls: TLS server name"}), {T::Https, T::Grpc}),
            forTypes(
                boolean("verify", &C::verify, {"bool", "`false`", "", "https, grpc with tls: verify the certificate and host name"}),
                {T::Https, T::Grpc}),
            forTypes(string("ca_file", &C::caFile, {"string", "system CAs", "path", "https, grpc with tls: CA bundle for `verify`"}),
                     {T::Https, T::Grpc}),
            forTypes(string("cert_file", &C::certFile,
                            {"string", "none", "path", "https, grpc with tls: client certificate (with `key_file`)"}),
                     {T::Https, T::Grpc}),
            forTypes(string("key_file", &C::keyFile, {"string", "none", "path", "https, grpc with tls: client key"}), {T::Https, T::Grpc}),
            forTypes(
                required(command("script", &C::command, {"command", "required", "", "script: the check; exit 0 = up"})),
                {T::Script}),
            forTypes(
                string("user", &C::user, {"string", "`global.script_user`", "a user name", "script: user it runs as"}),
                {T::Script}),
            forTypes(
                duration("timeout", &C::timeout, 0.01, 3600,
                         {"duration", "`connect_timeout`", "0.01..3600", "script: killed (process group) after this"}),
                {T::Script}),
            forTypes(boolean("dynamic_weight", &C::dynamicWeight,
                             {"bool", "`false`", "",
                              "script: exit codes 2..255 set the weight to code - 2 (keepalived's misc_dynamic)"}),
                     {T::Script}),
            forTypes(custom<C>(
                         "payload", {"string", "32 filler bytes", "hex octets", "udp: the datagram sent"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto t = r.string(st, "payload");
                             if (!t) return;
                             if (auto h = parseHex(*t, false)) c.payload = h->bytes;
                             else r.error(st, r.childPath("payload"), "not hex octets (\"01 ab ff\")");
                         },
                         [](Out& o, const C& c) {
                             if (!c.payload.empty()) o.set("payload", quote(hexText(c.payload)));
                         }),
                     {T::Udp}),
            forTypes(boolean("require_reply", &C::requireReply,
                             {"bool", "`false` (no answer within the timeout is up)", "",
                              "udp: a reply must come within the timeout"}),
                     {T::Udp}),
            forTypes(custom<C>(
                         "reply",
                         {"string", "any", "hex octets, `X` for any nibble",
                          "udp: the reply starts with these (implies `require_reply`)"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto t = r.string(st, "reply");
                             if (!t) return;
                             if (auto h = parseHex(*t, true)) {
                                 c.reply = h->bytes;
                                 c.replyMask = h->mask;
                                 c.requireReply = true;
                             } else {
                                 r.error(st, r.childPath("reply"), "not hex octets (\"01 aX ff\", X: any nibble)");
                             }
                         },
                         [](Out& o, const C& c) {
                             if (!c.reply.empty()) o.set("reply", quote(hexText(c.reply, c.replyMask)));
                         }),
                     {T::Udp}),
            forTypes(integer("min_reply_length", &C::minReplyLength, 0, 65535,
                             {"integer", "`0`", "0..65535", "udp: with `reply`, the shortest reply that counts"}),
                     {T::Udp}),
            forTypes(integer("max_reply_length", &C::maxReplyLength, 0, 65535,
                             {"integer", "`255`", "0..65535", "udp: with `reply`, the longest reply that counts"}),
                     {T::Udp}),
            forTypes(custom<C>(
                         "query_name", {"string", "`\".\"` (the root)", "a domain name", "dns: the name asked"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto t = r.string(st, "query_name");
                             if (!t) return;
                             if (auto why = dnsNameProblem(*t)) r.error(st, r.childPath("query_name"), *why);
                             else c.queryName = *t == "." ? "" : *t;
                         },
                         [](Out& o, const C& c) {
                             if (!c.queryName.empty()) o.set("query_name", quote(c.queryName));
                         }),
                     {T::Dns}),
            forTypes(choice<C, std::string>("query_type", &C::queryType,
                                            {{"A", "A"},
                                             {"NS", "NS"},
                                             {"CNAME", "CNAME"},
                                             {"SOA", "SOA"},
                                             {"MX", "MX"},
                                             {"TXT", "TXT"},
                                             {"AAAA", "AAAA"},
                                             {"RRSIG", "RRSIG"},
                                             {"DNSKEY", "DNSKEY"}},
                                            {"string", "`\"SOA\"`", "`A` `NS` `CNAME` `SOA` `MX` `TXT` `AAAA` `RRSIG` `DNSKEY`",
                                             "dns: the record type asked"}),
                     {T::Dns}),
            forTypes(custom<C>(
                         "helo_name", {"string", "`\"smtpchecker.directord\"`", "a host name", "smtp: the name sent with HELO"},
                         [](Reader& r, const libconfig::Setting& st, C& c) {
                             auto t = r.string(st, "helo_name");
                             if (!t) return;
                             if (t->find_first_of(" \t\r\n") != std::string::npos)
                                 r.error(st, r.childPath("helo_name"), "a HELO name has no spaces or line breaks");
                             else c.heloName = *t;
                         },
                         [](Out& o, const C& c) {
                             if (c.heloName != CheckConfig{}.heloName) o.set("helo_name", quote(c.heloName));
                         }),
                     {T::Smtp}),
            forTypes(nonEmpty("track_file", &C::trackFile,
                              {"string", "required", "a `track_files` name", "file: the file whose value counts"}),
                     {T::File}),
            forTypes(integer("weight", &C::fileWeight, -kFileWeight, kFileWeight,
                             {"integer", "the track file's `weight`", "-2147483647..2147483647",
                              "file: overrides it (value x weight is added to the server's weight)"}),
                     {T::File}),
            forTypes(boolean("reverse", &C::fileReverse, {"bool", "the track file's `reverse`", "", "file: overrides it"}),
                     {T::File}),
            forTypes(nonEmpty("bfd", &C::bfd,
                              {"string", "required", "a `bfd_instances` name", "bfd: the session that must be Up"}),
                     {T::Bfd}),
        },
        nullptr,
        [](Reader& r, C& c) {
            if (c.type == T::File && c.trackFile.empty()) r.error("missing required setting 'track_file'");
            if (c.regex.empty() && (!c.regexOptions.empty() || c.regexMinOffset || c.regexMaxOffset || c.regexHeaders))
                r.error("regex_options, regex_min_offset, regex_max_offset and regex_headers need a regex");
            if (c.regexMaxOffset && *c.regexMaxOffset < c.regexMinOffset)
                r.error("regex_max_offset " + std::to_string(*c.regexMaxOffset) + " < regex_min_offset " +
                        std::to_string(c.regexMinOffset) + ": nothing could match");
            if (c.type == T::Grpc && !c.tls && (c.verify || !c.sni.empty() || !c.caFile.empty() || !c.certFile.empty()))
                r.error("sni, verify, ca_file and cert_file take `tls = true` on a grpc check");
            if ((c.type == T::Https || c.type == T::Grpc) && c.certFile.empty() != c.keyFile.empty())
                r.error("cert_file and key_file go together");
            if (c.type == T::Udp && !c.reply.empty() && c.minReplyLength > c.maxReplyLength)
                r.error("min_reply_length " + std::to_string(c.minReplyLength) + " > max_reply_length " +
                        std::to_string(c.maxReplyLength) + ": every reply would fail");
        },
        [](C& x, const Location& l) { x.where = l; },
        [](const C& c) {  // a check's defaults are its type's
            C b;
            b.type = c.type;
            return b;
        }};
    return s;
}

const Section<RealServer>& realServer() {
    using R = RealServer;
    static const Section<R> s{
        "virtual_servers.real_servers",
        {
            required(address("address", &R::address, {"string", "required", "address", "real server address"})),
            integer("port", &R::port, 0, 65535,
                    {"integer", "the virtual port", "1..65535 (0 with fwmark)", "real server port"}),
            integer("weight", &R::weight, 0, 65535,
                    {"integer", "`1`", "0..65535", "scheduling weight; 0 = quiesced (no new connections)"}),
            integer(
                "upper_threshold", &R::upperThreshold, 0, 65535,
                {"integer", "`0`", "0..65535", "more connections than this: overloaded, no new ones (0: no limit)"}),
            integer("lower_threshold", &R::lowerThreshold, 0, 65535,
                    {"integer", "`0`", "0..65535", "an overloaded server takes connections again below this"}),
            choice("forwarding", &R::forwarding, kForwarding,
                   {"string", "the service's", "`nat` `dr` `tun`", "forwarding method for this server"}),
            custom<R>(
                "inhibit_on_failure", {"bool", "the service's", "", "overrides the service's `inhibit_on_failure`"},
                [](Reader& r, const libconfig::Setting& st, R& rs) {
                    if (auto v = r.boolean(st, "inhibit_on_failure")) rs.inhibitOnFailure = *v;
                },
                [](Out& o, const R& rs) {
                    if (rs.inhibitOnFailure) o.set("inhibit_on_failure", *rs.inhibitOnFailure ? "true" : "false");
                }),
            duration("slow_start", &R::slowStart, 0, 3600,
                     {"duration", "the service's", "0..3600", "overrides the service's `slow_start`"}),
            command("notify_up", &R::notifyUp, {"command", "none", "", "run when the server comes up"}),
            command("notify_down", &R::notifyDown, {"command", "none", "", "run when the server goes down"}),
            boolean("smtp_alert", &R::smtpAlert,
                    {"bool", "`true`", "", "mail (`global.smtp`) when the server goes up or down (keepalived's default)"}),
            list("checks", &R::checks, check(),
                 {"list of groups", "none: always up", "", "health checks; the server is up when all are up"}),
        },
        nullptr,
        nullptr,
        [](R& x, const Location& l) { x.where = l; }};
    return s;
}

std::string notForFwmark(const std::string& key) {
    return "'" + key + "' does not apply to a fwmark virtual server (the firewall mark selects the traffic)";
}

const Section<VirtualServer>& virtualServer() {
    using V = VirtualServer;
    auto addressOnly = [](Setting<V> st) {
        const std::string key(st.key);
        st.notHere = [key](const Reader& r, const V&) -> std::optional<std::string> {
            if (r.has("fwmark")) return notForFwmark(key);
            return std::nullopt;
        };
        st.writeIf = [](const V& v) { return v.fwmark == 0; };
        return st;
    };
    static const Section<V> s{
        "virtual_servers",
        {
            custom<V>(
                "address", {"string", "required unless `fwmark`", "IPv4 or IPv6", "virtual IP"},
                [](Reader& r, const libconfig::Setting& st, V& vs) {
                    if (r.has("fwmark")) return;  // both: reported once, by the section
                    vs.address = r.address(st, "address");
                    if (vs.address) vs.family = vs.address->family();
                },
                [](Out& o, const V& vs) {
                    if (!vs.fwmark) o.set("address", quote(vs.address ? vs.address->str() : ""));
                }),
            addressOnly(required(integer(
                "port", &V::port, 0, 65535,
                {"integer", "required with `address`", "0..65535", "virtual port (0: all ports, with persistence)"}))),
            addressOnly(choice<V, std::string>("protocol", &V::protocol,
                                               {{"tcp", "tcp"}, {"udp", "udp"}, {"sctp", "sctp"}},
                                               {"string", "`\"tcp\"`", "`tcp` `udp` `sctp`", "protocol"})),
            [] {
                auto st = integer("fwmark", &V::fwmark, 1, 4294967295LL,
                                  {"integer", "none", "1..4294967295", "firewall-mark service instead of an address"});
                st.writeIf = [](const V& vs) { return vs.fwmark != 0; };
                return st;
            }(),
            [] {
                auto st = choice("family", &V::family, kFamilies,
                                 {"string", "`\"ipv4\"`", "`ipv4` `ipv6`", "family of a fwmark service"});
                st.notHere = [](const Reader& r, const V&) -> std::optional<std::string> {
                    if (r.has("fwmark")) return std::nullopt;
                    return "'family' is for fwmark virtual servers (one with an address has that address's family)";
                };
                st.writeIf = [](const V& vs) { return vs.fwmark != 0; };
                return st;
            }(),
            custom<V>(
                "scheduler",
                {"string", "`\"wlc\"`",
                 "`rr` `wrr` `lc` `wlc` `sed` `nq` `sh` `dh` `mh` `lblc` `lblcr` `fo` `ovf` `twos`", "IPVS scheduler"},
                [](Reader& r, const libconfig::Setting& st, V& vs) {
                    auto name = r.string(st, "scheduler");
                    if (!name) return;
                    if (kmod::sched::findScheduler(*name)) vs.scheduler = *name;
                    else
                        r.error(st, r.childPath("scheduler"),
                                "unknown scheduler '" + *name + "' (" + kmod::sched::schedulerNames() + ")");
                },
                [](Out& o, const V& vs) { o.set("scheduler", quote(vs.scheduler)); }),
            custom<V>(
                "scheduler_flags",
                {"array of strings", "none", "`fallback` `port`",
                 "sh/mh only: fall back to another server when the chosen one is unavailable; hash the source port too"},
                [](Reader& r, const libconfig::Setting& st, V& vs) {
                    auto flags = r.strings(st, "scheduler_flags");
                    if (!flags) return;
                    for (const auto& f : *flags) {
                        if (f == "fallback") vs.schedFallback = true;
                        else if (f == "port") vs.schedPort = true;
                        else
                            r.error(st, r.childPath("scheduler_flags"),
                                    "unknown scheduler flag '" + f + "' (fallback, port)");
                    }
                    const auto* info = kmod::sched::findScheduler(vs.scheduler);
                    if (!flags->empty() && !(info && info->hashFlags))
                        r.error(st, r.childPath("scheduler_flags"),
                                "scheduler flags apply to the sh and mh schedulers only");
                },
                [](Out& o, const V& vs) {
                    std::vector<std::string> flags;
                    if (vs.schedFallback) flags.push_back("fallback");
                    if (vs.schedPort) flags.push_back("port");
                    if (!flags.empty()) o.set("scheduler_flags", strings(flags));
                }),
            choice("forwarding", &V::forwarding, kForwarding,
                   {"string", "`\"nat\"`", "`nat` `dr` `tun`",
                    "forwarding method for real servers that do not set their own"}),
            group("tunnel", &V::tunnel, tunnel(), {"group", "", "", "tunnel settings for `tun`"}, nullptr,
                  [](const V& vs) { return vs.forwarding == Forwarding::Tunnel || vs.tunnel != Tunnel{}; }),
            integer("persistence_timeout", &V::persistenceTimeout, 0, 2678400,
                    {"integer (s)", "`0`", "0..2678400", ">0: a client returns to the same real server for this long"}),
            custom<V>(
                "persistence_netmask",
                {"netmask or prefix", "`32` / `128`", "IPv4: `\"255.255.255.0\"` or 0..32; IPv6: 0..128",
                 "clients in the same network share persistence"},
                [](Reader& r, const libconfig::Setting& st, V& vs) {
                    const int maxp = vs.family == base::Family::V4 ? 32 : 128;
                    if (st.getType() == libconfig::Setting::TypeString && vs.family == base::Family::V4) {
                        const std::string text = static_cast<const char*>(st);
                        auto a = base::IpAddress::parse(text);
                        const std::uint32_t m = a && a->isV4() ? a->v4HostOrder() : 1;
                        const int ones = __builtin_popcount(m);
                        if (!a || !a->isV4() || (ones < 32 && (m << ones) != 0))
                            r.error(st, r.childPath("persistence_netmask"),
                                    "'" + text + "' is not a netmask like 255.255.255.0");
                        else vs.persistenceNetmask = ones;
                    } else if (auto p = r.integer(st, "persistence_netmask", 0, maxp)) {
                        vs.persistenceNetmask = static_cast<int>(*p);
                    }
                },
                [](Out& o, const V& vs) { o.set("persistence_netmask", std::to_string(vs.netmaskPrefix())); }),
            string("persistence_engine", &V::persistenceEngine, {"string", "none", "`sip`", "IPVS persistence engine"},
                   Empty::Omitted),
            boolean("one_packet", &V::onePacket,
                    {"bool", "`false`", "", "UDP: schedule every datagram on its own (ipvsadm `-o`)"}),
            integer("quorum", &V::quorum, 0, 1 << 30,
                    {"integer", "`1`", "0..1073741824",
                     "least total weight of live real servers; below it the sorry server takes over"}),
            integer("hysteresis", &V::hysteresis, 0, 1 << 30,
                    {"integer", "`0`", "0..1073741824",
                     "quorum is regained at `quorum + hysteresis`, lost below `quorum - hysteresis`"}),
            command("quorum_up", &V::quorumUp, {"command", "none", "", "run when quorum is regained"}),
            command("quorum_down", &V::quorumDown, {"command", "none", "", "run when quorum is lost"}),
            [] {
                auto st = custom<V>(
                    "sorry_server", {"group", "none", "", "server used while quorum is lost"},
                    [](Reader& r, const libconfig::Setting& g, V& vs) {
                        if (!g.isGroup())
                            return r.error(g, r.childPath("sorry_server"),
                                           "expected a group { ... }, got " + typeName(g));
                        SorryServer ss;
                        ss.port = vs.port;
                        Reader sub(r, g, "sorry_server");
                        readSection(sub, sorryServer(), ss);
                        vs.sorryServer = ss;
                    },
                    [](Out& o, const V& vs) {
                        if (!vs.sorryServer) return;
                        o.open("sorry_server = {");
                        writeSection(o, sorryServer(), *vs.sorryServer);
                        o.close("};");
                    });
                st.nested = [](std::vector<DocRow>& out) { appendRows(sorryServer(), out); };
                return st;
            }(),
            boolean("inhibit_on_failure", &V::inhibitOnFailure,
                    {"bool", "`false`", "",
                     "a failed real server stays in the table with weight 0 instead of being removed"}),
            boolean("alpha", &V::alpha,
                    {"bool", "`false`", "", "real servers start down until their first successful check"}),
            boolean("omega", &V::omega,
                    {"bool", "`false`", "", "run real servers' `notify_down` and `quorum_down` at shutdown"}),
            boolean("smtp_alert", &V::smtpAlert,
                    {"bool", "`false`", "", "mail (`global.smtp`) when the service loses or regains its quorum"}),
            boolean("ha_suspend", &V::haSuspend,
                    {"bool", "`false`", "", "check only while this director holds the virtual address"}),
            string("virtualhost", &V::virtualhost,
                   {"string", "none", "", "default Host header / SNI for HTTP and HTTPS checks"}),
            duration("delay_loop", &V::delayLoop, 0.01, kDay,
                     {"duration", "`60`", "0.01..86400", "default check interval"}),
            duration("connect_timeout", &V::connectTimeout, 0.01, 3600,
                     {"duration", "`5`", "0.01..3600", "default check connect/response timeout"}),
            integer("retry", &V::retry, 0, 100,
                    {"integer", "`1`", "0..100", "default retries of a failed check before it counts as failed"}),
            duration("delay_before_retry", &V::delayBeforeRetry, 0, 3600,
                     {"duration", "`1`", "0..3600", "default wait before a retry"}),
            duration("warmup", &V::warmup, 0, kDay,
                     {"duration", "`0`", "0..86400", "default: the first check waits a random time up to this"}),
            duration(
                "slow_start", &V::slowStart, 0, 3600,
                {"duration", "`0`", "0..3600",
                 "a real server that recovers or is enabled again takes this long to reach its full weight; 0: at once"}),
            list<V, RealServer>(
                "real_servers", &V::realServers, realServer(), {"list of groups", "none", "", "the real servers"},
                [](const V& vs, RealServer& rs) { rs.port = vs.port; },
                [](Reader& r, const V& vs, RealServer& rs) {
                    // port 0 is IPVS's "the port the client asked for": fwmark services and the
                    // all-ports (port 0, persistent) ones; a real server of any other keeps one port
                    if (vs.fwmark != 0 || vs.port == 0) return;
                    if (r.has("port") && rs.port == 0)
                        r.errorAt("port", "0 is out of range (1..65535; 0 only in a port 0 or fwmark service)");
                }),
        },
        [](Reader& r, V&) {
            const bool mark = r.has("fwmark"), addr = r.has("address");
            if (mark && addr) r.error("set either address (with port and protocol) or fwmark, not both");
            if (!mark && !addr) r.error("missing required setting 'address' (or 'fwmark')");
        },
        [](Reader& r, V& vs) {
            if (vs.persistenceNetmask < 0) vs.persistenceNetmask = vs.family == base::Family::V4 ? 32 : 128;
            // port 0 as written (not a port that failed to read)
            const auto* port = r.child("port");
            if (port && port->getType() == libconfig::Setting::TypeInt && static_cast<int>(*port) == 0 &&
                vs.persistenceTimeout == 0)
                r.errorAt("port",
                          "port 0 (every port) needs persistence_timeout: IPVS refuses a port 0 service without it "
                          "(ipvsadm: \"Zero port specified for non-persistent service\")");
        },
        [](V& x, const Location& l) { x.where = l; }};
    return s;
}

}  // namespace

const Section<Config>& root() {
    static const Section<Config> s{
        "",
        {
            group("global", &Config::global, global(), {"group", "", "", "daemon-wide settings"}),
            list("vrrp_scripts", &Config::vrrpScripts, vrrpScript(),
                 {"list of groups", "none", "", "scripts VRRP instances track"}),
            list("track_files", &Config::trackFiles, trackFile(),
                 {"list of groups", "none", "", "files whose number moves weights and priorities"}),
            list("track_processes", &Config::trackProcesses, trackProcess(),
                 {"list of groups", "none", "", "kinds of processes whose count moves priorities (keepalived's "
                  "vrrp_track_process)"}),
            list("bfd_instances", &Config::bfdInstances, bfdInstance(),
                 {"list of groups", "none", "", "BFD sessions `bfd` checks follow (keepalived's bfd_instance)"}),
            list("static_addresses", &Config::staticAddresses, staticAddress(),
                 {"list of groups", "none", "",
                  "addresses present while directord runs, whatever the VRRP state (keepalived's static_ipaddress)"}),
            list("static_routes", &Config::staticRoutes, staticRoute(),
                 {"list of groups", "none", "", "routes present while directord runs, whatever the VRRP state"}),
            list("static_rules", &Config::staticRules, staticRule(),
                 {"list of groups", "none", "", "policy routing rules present while directord runs"}),
            list("vrrp_instances", &Config::vrrpInstances, vrrpInstance(),
                 {"list of groups", "none", "", "VRRP virtual routers"}),
            list("vrrp_sync_groups", &Config::syncGroups, syncGroup(),
                 {"list of groups", "none", "", "instances that change state together"}),
            list("virtual_servers", &Config::virtualServers, virtualServer(),
                 {"list of groups", "none", "", "IPVS virtual services and their real servers"}),
        }};
    return s;
}

std::vector<DocRow> reference() {
    std::vector<DocRow> out;
    appendRows(root(), out);
    return out;
}

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
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string seconds(Duration d) {
    const double v = std::chrono::duration<double>(d).count();
    char buf[40];
    for (int prec = 6; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

std::string strings(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : " ") + quote(v[i]);
    return s + (v.empty() ? "]" : " ]");
}

}  // namespace conf::schema
