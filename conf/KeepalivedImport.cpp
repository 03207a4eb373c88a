#include "conf/KeepalivedImport.h"
#include "conf/KeepalivedKeywords.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>

#include "base/Regex.h"
#include "conf/Config.h"
#include "conf/Dump.h"
#include "conf/Hex.h"
#include "conf/KeepalivedParser.h"
#include "conf/Loader.h"
#include "conf/Reader.h"

namespace conf {
namespace {

using keepalived::Node;

// Keywords directord has no equivalent for, with the reason given to the operator. Keywords not
// here and not handled are reported as unknown.
const std::map<std::string, std::string>& noEquivalent() {
    static const std::map<std::string, std::string> m = {
        {"no_email_faults", "directord sends no mail"},
        {"lvs_flush",
         "directord does not flush the table at start: it adopts what is there and manages its own services"},
        {"lvs_notify_fifo", "directord has no checker fifo (notify_up/notify_down scripts are carried over)"},
        {"lvs_notify_fifo_script", "directord has no checker fifo"},
        {"notify_fifo_script", "directord writes the fifo but runs no fifo script"},
        {"vrrp_notify_fifo_script", "directord writes the fifo but runs no fifo script"},
        {"vrrp_iptables", "directord installs no firewall rules"},
        {"vrrp_ipsets", "directord installs no firewall rules"},
        {"nftables", "directord installs no firewall rules"},
        {"nftables_ipvs", "directord installs no firewall rules"},
        {"vrrp_priority", "directord does not change its scheduling priority"},
        {"checker_priority", "directord does not change its scheduling priority"},
        {"bfd_priority", "directord has no BFD"},
        {"vrrp_no_swap", "directord does not lock its memory"},
        {"checker_no_swap", "directord does not lock its memory"},
        {"vrrp_rt_priority", "directord does not use real-time scheduling"},
        {"checker_rt_priority", "directord does not use real-time scheduling"},
        {"vrrp_rlimit_rttime", "directord does not use real-time scheduling"},
        {"checker_rlimit_rttime", "directord does not use real-time scheduling"},
        {"vrrp_cpu_affinity", "directord does not pin its processes"},
        {"checker_cpu_affinity", "directord does not pin its processes"},
        {"dynamic_interfaces", "directord waits for a missing interface and starts the instance when it appears"},
        {"enable_dbus", "directord has no D-Bus interface (directorctl, SNMP and /status instead)"},
        {"dbus_service_name", "directord has no D-Bus interface"},
        {"max_auto_priority", "directord does not change its scheduling priority"},
        {"vrrp_down_timer_adverts", "directord's master down interval is RFC 5798's (3 intervals and the skew)"},
        {"down_timer_adverts", "directord's master down interval is RFC 5798's (3 intervals and the skew)"},
        {"vrrp_min_garp", "set the garp settings of each instance"},
        {"vrrp_garp_extra_if", "directord announces on the instance's interfaces only"},
        {"garp_extra_if", "directord announces on the instance's interfaces only"},
        {"fifo_write_vrrp_states_on_reload", "directord writes the fifo on transitions only"},
        {"vrrp_notify_priority_changes", "directord writes the fifo on transitions only"},
        {"notify_priority_changes", "directord writes the fifo on transitions only"},
        {"linkbeat_use_polling", "directord follows links through netlink events"},
        {"use_vmac_addr", "directord makes one VMAC per instance (use_vmac), not one per VIP interface"},
        {"use_ipvlan", "directord has no ipvlan interfaces"},
        {"vrf", "directord does not bind to a VRF"},
        {"track_file", "directord tracks files per instance: track the file in each member of the group"},
        {"garp_group", "set garp.interval on each instance"},
        {"linkbeat_interfaces", "directord follows links through netlink events"},
        {"interface_up_down_delays", "directord moves to FAULT and back as soon as the link changes"},
        {"mcast_dst_ip", "directord sends adverts to the standard groups (224.0.0.18, ff02::12) or unicast peers"},
        {"vrrp_mcast_group4", "directord sends IPv4 adverts to 224.0.0.18"},
        {"vrrp_mcast_group6", "directord sends IPv6 adverts to ff02::12"},
        {"unicast_ttl", "directord's unicast_ttl also makes peers' adverts arrive with that TTL, keepalived's does not: set it by hand where the peers are on the link"},
        {"old_unicast_checksum", "directord computes the checksum as RFC 5798 says"},
        {"track_src_ip", "directord takes the source address from unicast_source or the interface"},
        {"kernel_rx_buf_size", "directord sizes its socket buffers itself"},
        {"promote_secondaries", "directord does not change the interface's promote_secondaries"},
        {"debug", "use directord's -l debug"},
        {"snmp_name", "directord names a virtual server by its address in SNMP"},
        {"sorry_server_inhibit", "directord adds the sorry server only while quorum is lost"},
        {"nat_mask", "ignored by keepalived itself"},
        {"instance", "directord has no instance name: run each with its own config and files"},
        {"child_wait_time", "directord's supervisor waits 15 s for its workers to stop"},
    };
    return m;
}

std::optional<bool> boolWord(const std::string& w) {
    if (w == "on" || w == "true" || w == "yes" || w == "1") return true;
    if (w == "off" || w == "false" || w == "no" || w == "0") return false;
    return std::nullopt;
}

// "192.168.1.1-10", "192.168.1.250-192.168.2.10", "10.0.0.8/29": each address, at most 256.
std::optional<std::vector<base::IpAddress>> addressRange(const std::string& text, std::string& why) {
    auto one = base::IpAddress::parse(text);
    if (one) return std::vector<base::IpAddress>{*one};
    std::vector<base::IpAddress> out;
    if (auto slash = text.find('/'); slash != std::string::npos) {
        auto p = base::IpPrefix::parse(text);
        if (!p) return std::nullopt;
        const int hostBits = p->address.maxPrefix() - p->prefix;
        if (hostBits > 8) {
            why = "more than 256 addresses";
            return std::nullopt;
        }
        auto bytes = p->address.masked(p->prefix).bytes();
        const int last = p->address.isV4() ? 3 : 15;
        for (int i = 0; i < (1 << hostBits); ++i) {
            auto b = bytes;
            b[last] = static_cast<std::uint8_t>(b[last] + i);
            out.push_back(base::IpAddress::fromBytes(p->address.family(), b.data()));
        }
        return out;
    }
    auto dash = text.rfind('-');
    if (dash == std::string::npos) return std::nullopt;
    auto first = base::IpAddress::parse(text.substr(0, dash));
    if (!first) return std::nullopt;
    const std::string rest = text.substr(dash + 1);
    std::optional<base::IpAddress> lastAddr = base::IpAddress::parse(rest);
    if (!lastAddr) {  // "a.b.c.d-VVV": the last byte (or IPv6 group)
        auto b = first->bytes();
        char* end = nullptr;
        const long v = std::strtol(rest.c_str(), &end, first->isV4() ? 10 : 16);
        if (!end || *end || rest.empty()) return std::nullopt;
        if (first->isV4()) {
            if (v < 0 || v > 255) return std::nullopt;
            b[3] = static_cast<std::uint8_t>(v);
        } else {
            if (v < 0 || v > 0xffff) return std::nullopt;
            b[14] = static_cast<std::uint8_t>(v >> 8);
            b[15] = static_cast<std::uint8_t>(v);
        }
        lastAddr = base::IpAddress::fromBytes(first->family(), b.data());
    }
    if (lastAddr->family() != first->family() || *lastAddr < *first) return std::nullopt;
    for (auto a = *first;;) {
        out.push_back(a);
        if (a == *lastAddr) break;
        if (out.size() >= 256) {
            why = "more than 256 addresses";
            return std::nullopt;
        }
        auto b = a.bytes();
        for (int i = a.isV4() ? 3 : 15; i >= 0 && ++b[static_cast<size_t>(i)] == 0; --i) {}
        a = base::IpAddress::fromBytes(a.family(), b.data());
    }
    return out;
}

const char* const kScriptPath[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};

struct GroupEntry {
    std::optional<base::IpAddress> address;
    int port = 0;
    std::uint32_t fwmark = 0;
    std::optional<base::Family> family;
};

// keepalived's check timing at one level (virtual server, real server, checker): what was set.
struct Timing {
    std::optional<Duration> delayLoop, connectTimeout, delayBeforeRetry, warmup;
    std::optional<int> retry;
    std::optional<std::string> virtualhost;
};

class Importer {
public:
    explicit Importer(ImportResult& out) : out_(out) {}

    Config run(const std::vector<Node>& nodes) {
        // global_defs and groups first: keepalived reads the whole file before it acts
        for (const auto& n : nodes) {
            if (n.keyword == "global_defs") global(n);
            else if (n.keyword == "virtual_server_group") vsGroup(n);
            else if (n.keyword == "vrrp_instance" && !n.args.empty()) instances_.insert(n.args[0].text);
            if (n.keyword == "global_defs" && !globalAt_) globalAt_ = &n;
        }
        mainFile_ = nodes.empty() ? std::string() : nodes.front().file;
        for (const auto& n : nodes) {
            if (n.keyword == "global_defs" || n.keyword == "virtual_server_group") continue;
            if (n.keyword == "vrrp_script") vrrpScript(n);
            else if (n.keyword == "track_file" || n.keyword == "vrrp_track_file") trackFile(n);
            else if (n.keyword == "vrrp_track_process") trackProcess(n);
            else if (n.keyword == "bfd_instance") bfdInstance(n);
            else if (n.keyword == "static_ipaddress") {
                for (const auto& a : n.children)
                    if (auto va = vip(a)) {
                        if (va->dev.empty()) va->dev = defaultInterface_;  // keepalived's get_default_if()
                        cfg_.staticAddresses.push_back(*va);
                    }
            }
            else if (n.keyword == "static_routes") {
                for (const auto& a : n.children)
                    if (auto r = route(a)) cfg_.staticRoutes.push_back(*r);
            }
            else if (n.keyword == "static_rules") {
                for (const auto& a : n.children)
                    if (auto r = rule(a)) cfg_.staticRules.push_back(*r);
            }
            else if (n.keyword == "vrrp_instance") vrrpInstance(n);
            else if (n.keyword == "vrrp_sync_group") syncGroup(n);
            else if (n.keyword == "virtual_server") virtualServer(n);
            else unsupported(n);
        }
        applyGroupTracking();
        // keepalived ignores, with a warning, a track_script naming no vrrp_script (vrrp_track.c)
        for (auto& v : cfg_.vrrpInstances)
            std::erase_if(v.trackScripts, [&](const TrackScript& t) {
                const bool known = std::any_of(cfg_.vrrpScripts.begin(), cfg_.vrrpScripts.end(),
                                               [&](const VrrpScript& d) { return d.name == t.script; });
                if (!known)
                    out_.notes.push_back({t.where.file, t.where.line, t.script,
                                          "no vrrp_script of that name: not tracked, as keepalived ignores it"});
                return !known;
            });
        // keepalived: a track_file reference naming no track_file is a config error and is ignored
        // (the FILE_CHECK or instance tracks nothing; check/check_file.c, trackers/track_file.c)
        auto knownFile = [&](const std::string& name) {
            return std::any_of(cfg_.trackFiles.begin(), cfg_.trackFiles.end(),
                               [&](const TrackFile& f) { return f.name == name; });
        };
        // an instance's reference to a tracked thing of no such name: keepalived reports it and
        // tracks nothing (track_file, vrrp_track_process, bfd_instance alike)
        auto dropUnknown = [&](auto& refs, auto name, const auto& defs, const char* what) {
            std::erase_if(refs, [&](const auto& t) {
                if (std::any_of(defs.begin(), defs.end(), [&](const auto& d) { return d.name == t.*name; }))
                    return false;
                out_.left.push_back({t.where.file, t.where.line, t.*name,
                                     std::string("no ") + what + " of that name: keepalived reports it and tracks nothing"});
                return true;
            });
        };
        for (auto& v : cfg_.vrrpInstances) dropUnknown(v.trackFiles, &TrackFileRef::file, cfg_.trackFiles, "track_file");
        for (auto& v : cfg_.vrrpInstances)
            dropUnknown(v.trackProcesses, &TrackProcessRef::process, cfg_.trackProcesses, "vrrp_track_process");
        for (auto& v : cfg_.vrrpInstances) dropUnknown(v.trackBfds, &TrackBfdRef::bfd, cfg_.bfdInstances, "bfd_instance");
        for (auto& vs : cfg_.virtualServers)
            for (auto& rs : vs.realServers)
                std::erase_if(rs.checks, [&](const CheckConfig& c) {
                    if (c.type != CheckType::File || knownFile(c.trackFile)) return false;
                    out_.left.push_back({c.where.file, c.where.line, "FILE_CHECK",
                                         "no track_file '" + c.trackFile +
                                             "': keepalived reports it and drops the check"});
                    return true;
                });
        if (!scriptUserSet_) {  // keepalived's: keepalived_script if that user exists, else root
            cfg_.global.scriptUser = ::getpwnam("keepalived_script") ? "keepalived_script" : "root";
            out_.notes.push_back(
                {globalAt_ ? globalAt_->file : mainFile_, globalAt_ ? globalAt_->line : 1, "script_user",
                 "not set: keepalived runs scripts as keepalived_script if that user exists, else as "
                 "root; the import sets " +
                     cfg_.global.scriptUser + " (with script_security, a root script must be root's alone)"});
        }
        return std::move(cfg_);
    }

private:
    void left(const Node& n, const std::string& why) { out_.left.push_back({n.file, n.line, n.keyword, why}); }
    void note(const Node& n, const std::string& why) { out_.notes.push_back({n.file, n.line, n.keyword, why}); }
    // A word the import does not carry over: keepalived's with the reason when there is one, else
    // said to be keepalived's; a word keepalived does not know either is likely a typo.
    void unsupported(const Node& n) {
        if (auto it = noEquivalent().find(n.keyword); it != noEquivalent().end()) return left(n, it->second);
        if (keepalived::isKeyword(n.keyword))
            return left(n, "a keepalived keyword directord's import does not carry over here");
        const std::string near = keepalived::nearestKeyword(n.keyword);
        left(n, "not a keepalived keyword either: a typo?" + (near.empty() ? "" : " (keepalived has '" + near + "')"));
    }

    bool need(const Node& n, size_t count) {
        if (n.args.size() >= count) return true;
        left(n, "needs " + std::to_string(count) + " argument(s)");
        return false;
    }
    std::optional<long long> integer(const Node& n, size_t i, long long lo, long long hi) {
        if (!need(n, i + 1)) return std::nullopt;
        const std::string& t = n.args[i].text;
        char* end = nullptr;
        const long long v = std::strtoll(t.c_str(), &end, 10);
        if (t.empty() || *end || v < lo || v > hi) {
            left(n, "'" + t + "' is not a whole number in " + std::to_string(lo) + ".." + std::to_string(hi));
            return std::nullopt;
        }
        return v;
    }
    std::optional<Duration> secs(const Node& n, size_t i, double lo, double hi) {
        if (!need(n, i + 1)) return std::nullopt;
        const std::string& t = n.args[i].text;
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || *end || !std::isfinite(v) || v < lo || v > hi) {
            left(n, "'" + t + "' is not a number of seconds in " + std::to_string(lo) + ".." + std::to_string(hi));
            return std::nullopt;
        }
        return base::seconds(v);
    }
    // keepalived reads a script's interval and timeout as whole seconds (1.5 is 1; 0 is 1)
    std::optional<Duration> wholeSecs(const Node& n) {
        auto d = secs(n, 0, 0, 86400);
        if (!d) return std::nullopt;
        const auto whole = std::max<long>(1, static_cast<long>(base::toSeconds(*d)));
        if (base::seconds(static_cast<double>(whole)) != *d)
            note(n, n.args[0].text + " is read as " + std::to_string(whole) + " s, as keepalived reads it");
        return base::seconds(static_cast<double>(whole));
    }
    std::optional<base::IpAddress> address(const Node& n, size_t i) {
        if (!need(n, i + 1)) return std::nullopt;
        auto a = base::IpAddress::parse(n.args[i].text);
        if (!a) left(n, "'" + n.args[i].text + "' is not an address");
        return a;
    }
    // An address as keepalived's inet_stosockaddr() reads it (unicast_src_ip, unicast_peer): a
    // prefix length or a range after it is dropped, with a note, never the address itself.
    std::optional<base::IpAddress> bareAddress(const Node& n, const std::string& text) {
        if (auto a = base::IpAddress::parse(text)) return a;
        const size_t cut = text.find_first_of("/-");
        if (cut != std::string::npos && cut > 0)
            if (auto a = base::IpAddress::parse(text.substr(0, cut))) {
                note(n, "'" + text + "' is read as " + a->str() + ": keepalived ignores what follows the address");
                return a;
            }
        left(n, "'" + text + "' is not an address");
        return std::nullopt;
    }
    bool flag(const Node& n) {  // `keyword [<BOOL>]`
        if (n.args.empty()) return true;
        if (auto b = boolWord(n.args[0].text)) return *b;
        left(n, "'" + n.args[0].text + "' is not on/off/true/false/yes/no");
        return false;
    }

    // A script: `keyword "program args" [user [group]]`, or (wholeLine) every argument the command.
    std::optional<Command> command(const Node& n, bool wholeLine, std::string* user = nullptr) {
        if (!need(n, 1)) return std::nullopt;
        std::string text = n.args[0].text;
        size_t rest = 1;
        if (wholeLine && !n.args[0].quoted)
            for (; rest < n.args.size(); ++rest) text += " " + n.args[rest].text;
        // keepalived (core/notify.c): a script starting "</" (blanks allowed between) only tests that
        // a file opens, a shell redirection it hands to /bin/sh ("</dev/tcp/127.0.0.1/80": a
        // connect); so does the import
        const size_t afterLt = text.find_first_not_of(" \t", 1);
        if (text[0] == '<' && afterLt != std::string::npos && text[afterLt] == '/') {
            std::string why = "'" + text + "' is a shell redirection: run with /bin/sh -c, as keepalived runs it";
            if (text.find("/dev/tcp/") != std::string::npos || text.find("/dev/udp/") != std::string::npos)
                why += " (/dev/tcp and /dev/udp are bash's: where /bin/sh is dash, as on Debian, it fails under "
                       "keepalived too; a tcp check does the same job)";
            note(n, why);
            if (rest < n.args.size() && user) *user = n.args[rest].text;
            return Command{{"/bin/sh", "-c", text}};
        }
        auto words = splitWords(text);
        if (!words || words->empty()) {
            left(n, "no command");
            return std::nullopt;
        }
        std::string& prog = (*words)[0];
        if (prog.find('/') != std::string::npos && prog[0] != '/') {
            left(n, "'" + prog + "' is a relative path; write the full path");
        } else if (prog[0] != '/') {  // keepalived looks a bare name up in PATH
            bool found = false;
            for (const char* dir : kScriptPath) {
                const std::string p = std::string(dir) + "/" + prog;
                if (::access(p.c_str(), X_OK) == 0) {
                    note(n, "'" + prog + "' is run as " + p + " (found in PATH here; directord needs the full path)");
                    prog = p;
                    found = true;
                    break;
                }
            }
            if (!found) left(n, "'" + prog + "' is not a full path and is not in PATH here; write the full path");
        }
        if (rest < n.args.size()) {
            const std::string& u = n.args[rest].text;
            if (user) *user = u;
            else if (u != cfg_.global.scriptUser || !scriptUserSet_)
                left(n, "runs as '" + u + "': directord runs this script as global.script_user");
            if (rest + 1 < n.args.size())
                left(n, "group '" + n.args[rest + 1].text + "': directord runs scripts with the user's own group");
        }
        return Command{std::move(*words)};
    }

    void global(const Node& g) {
        auto& G = cfg_.global;
        for (const auto& n : g.children) {
            const std::string& k = n.keyword;
            if (k == "router_id" || k == "lvs_id") {
                if (need(n, 1) && (k == "router_id" || G.routerId.empty())) G.routerId = n.args[0].text;
            } else if (k == "notification_email") {
                for (const auto& a : n.children) G.smtp.to.push_back(a.keyword);
                for (const auto& a : n.args) G.smtp.to.push_back(a.text);
            } else if (k == "notification_email_from") {
                if (need(n, 1)) G.smtp.from = n.args[0].text;
            } else if (k == "smtp_server") {
                if (!need(n, 1)) continue;
                auto ip = base::IpAddress::parse(n.args[0].text);
                if (!ip) {
                    left(n, "'" + n.args[0].text + "' is not an address: directord does not resolve a name for mail; "
                            "give the server's address");
                    continue;
                }
                std::uint16_t port = 25;
                if (n.args.size() > 1)
                    if (auto p = integer(n, 1, 1, 65535)) port = static_cast<std::uint16_t>(*p);
                G.smtp.server = base::SocketAddress{*ip, port};
            } else if (k == "smtp_connect_timeout") {
                if (auto d = secs(n, 0, 1, 3600)) G.smtp.connectTimeout = *d;
            } else if (k == "smtp_helo_name") {
                if (need(n, 1)) G.smtp.heloName = n.args[0].text;
            } else if (k == "vrrp_check_unicast_src" || k == "vrrp_skip_check_adv_addr") {
                // directord's way already: unicast adverts only from the peers, no check of the
                // advert's address list against ours
            } else if (k == "vrrp_startup_delay") {
                if (auto d = secs(n, 0, 0, 3600)) G.vrrpStartupDelay = *d;
            } else if (k == "vrrp_delay_after_boot") {
                if (auto d = secs(n, 0, 0, 86400)) G.vrrpDelayAfterBoot = *d;
            } else if (k == "net_namespace") {
                if (need(n, 1)) G.netNamespace = n.args[0].text;
            } else if (k == "vrrp_strict") {
                strict_ = true;
            } else if (k == "vrrp_lower_prio_no_advert") {
                lowerPrioNoAdvert_ = flag(n);
            } else if (k == "vrrp_higher_prio_send_advert") {
                higherPrioSendAdvert_ = flag(n);
            } else if (k == "default_interface") {
                if (need(n, 1)) defaultInterface_ = n.args[0].text;
            } else if (k == "checker_log_all_failures") {
                logAllFailures_ = flag(n);
            } else if (k == "smtp_alert") {
                smtpAlert_ = flag(n);
            } else if (k == "smtp_alert_vrrp") {
                smtpAlertVrrp_ = flag(n);
            } else if (k == "smtp_alert_checker") {
                smtpAlertChecker_ = flag(n);
            } else if (k == "script_user") {
                if (!need(n, 1)) continue;
                G.scriptUser = n.args[0].text;
                scriptUserSet_ = true;
                if (n.args.size() > 1) left(n, "group '" + n.args[1].text + "': directord uses the user's own group");
            } else if (k == "enable_script_security") {
                G.scriptSecurity = true;
            } else if (k == "notify_fifo" || k == "vrrp_notify_fifo") {
                if (need(n, 1)) G.notifyFifo = n.args[0].text;
                if (n.args.size() > 1) left(n, "the fifo's owner: directord creates it as root, mode 0600");
            } else if (k == "lvs_timeouts") {
                for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
                    auto v = integer(n, i + 1, 0, 2147483);
                    if (!v) continue;
                    const std::string& w = n.args[i].text;
                    if (w == "tcp") G.ipvsTimeouts.tcp = static_cast<int>(*v);
                    else if (w == "tcpfin") G.ipvsTimeouts.tcpFin = static_cast<int>(*v);
                    else if (w == "udp") G.ipvsTimeouts.udp = static_cast<int>(*v);
                    else left(n, "'" + w + "' is not tcp, tcpfin or udp");
                }
            } else if (k == "lvs_sync_daemon") {
                syncDaemon(n);
            } else if (k == "lvs_flush_on_stop" || k == "lvs_flush_onstop") {
                G.flushOnStop = !n.args.empty() && n.args[0].text == "VS" ? FlushOnStop::Created : FlushOnStop::All;
            } else if (k == "vrrp_garp_master_delay") {
                if (auto v = secs(n, 0, 0, 3600)) garp_.masterDelay = *v;
            } else if (k == "vrrp_garp_master_repeat") {
                if (auto v = integer(n, 0, 0, 100)) garp_.masterRepeat = static_cast<int>(*v);
            } else if (k == "vrrp_garp_lower_prio_repeat") {
                if (auto v = integer(n, 0, 0, 100)) garp_.lowerPrioRepeat = static_cast<int>(*v);
            } else if (k == "vrrp_garp_lower_prio_delay") {
                if (auto v = secs(n, 0, 0, 3600)) garp_.lowerPrioDelay = *v;
            } else if (k == "vrrp_garp_master_refresh") {
                if (auto v = secs(n, 0, 0, 86400)) garp_.masterRefresh = *v;
            } else if (k == "vrrp_garp_master_refresh_repeat") {
                if (auto v = integer(n, 0, 1, 100)) garp_.masterRefreshRepeat = static_cast<int>(*v);
            } else if (k == "vrrp_garp_interval") {
                if (auto v = secs(n, 0, 0, 10)) garpInterval_ = *v;
            } else if (k == "vrrp_gna_interval") {
                if (auto v = secs(n, 0, 0, 10)) gnaInterval_ = *v;
            } else if (k == "vrrp_version") {
                if (auto v = integer(n, 0, 2, 3)) version_ = static_cast<int>(*v);
            } else if (k == "enable_snmp_vrrp" || k == "enable_snmp_keepalived" || k == "enable_snmp_checker") {
                snmp(n, "keepalived");
            } else if (k == "enable_snmp_rfc") {
                snmp(n, "vrrp");
                snmp(n, "vrrpv3");
            } else if (k == "enable_snmp_rfcv2") {
                snmp(n, "vrrp");
            } else if (k == "enable_snmp_rfcv3") {
                snmp(n, "vrrpv3");
            } else if (k == "enable_traps") {
                G.snmp.traps = true;
            } else if (k == "snmp_socket") {
                if (need(n, 1)) G.snmp.agentxSocket = n.args[0].text;
            } else if ((k == "vrrp_mcast_group4" && !n.args.empty() && n.args[0].text == "224.0.0.18") ||
                       (k == "vrrp_mcast_group6" && !n.args.empty() && n.args[0].text == "ff02::12")) {
                // the standard group: what directord uses
            } else if (keepalived::isKeyword(k) && !keepalived::isGlobalKeyword(k) && !n.block &&
                       !noEquivalent().contains(k)) {
                // keepalived: "Unknown keyword" in global_defs, ignored (the corpus has garp_master_delay here)
                note(n, "not a global_defs keyword for keepalived either (it says \"Unknown keyword\"): ignored, "
                        "as keepalived ignores it" +
                            std::string(keepalived::isGlobalKeyword("vrrp_" + k) ? "; the global one is vrrp_" + k : ""));
            } else {
                unsupported(n);
            }
        }
    }

    void snmp(const Node&, const char* mib) {
        auto& s = cfg_.global.snmp;
        if (!snmpSet_) s.mibs.clear();
        snmpSet_ = true;
        s.enabled = true;
        if (std::find(s.mibs.begin(), s.mibs.end(), mib) == s.mibs.end()) s.mibs.push_back(mib);
    }

    void syncDaemon(const Node& n) {
        if (!need(n, 1)) return;
        auto& d = cfg_.global.syncDaemon;
        d.enabled = true;
        d.interface = n.args[0].text;
        d.where = Location{n.file, n.line};
        for (size_t i = 1; i < n.args.size(); ++i) {
            const std::string& w = n.args[i].text;
            const bool hasValue = i + 1 < n.args.size();
            if (w == "id" && hasValue) {
                if (auto v = integer(n, ++i, 0, 255)) d.syncId = static_cast<int>(*v);
            } else if (w == "maxlen" && hasValue) {
                if (auto v = integer(n, ++i, 1, 65507)) d.maxlen = static_cast<int>(*v);
            } else if (w == "port" && hasValue) {
                if (auto v = integer(n, ++i, 1, 65535)) d.port = static_cast<int>(*v);
            } else if (w == "ttl" && hasValue) {
                if (auto v = integer(n, ++i, 1, 255)) d.ttl = static_cast<int>(*v);
            } else if (w == "group" && hasValue) {
                if (auto a = address(n, ++i)) d.group = *a;
            } else if (w == "inst" && hasValue) {
                d.vrrpInstance = n.args[++i].text;
            } else if (i == 1) {
                d.vrrpInstance = w;
            } else {
                left(n, "'" + w + "' is not one of lvs_sync_daemon's options");
            }
        }
    }

    void vrrpScript(const Node& s) {
        if (!need(s, 1)) return;
        VrrpScript v;
        v.name = s.args[0].text;
        v.where = Location{s.file, s.line};
        bool timeoutSet = false;
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (k == "script") {
                if (auto c = command(n, true)) v.command = *c;
            } else if (k == "interval") {
                if (auto d = wholeSecs(n)) v.interval = *d;
            } else if (k == "timeout") {
                if (auto d = wholeSecs(n)) v.timeout = *d;
                timeoutSet = true;
            } else if (k == "weight") {
                if (auto w = integer(n, 0, -253, 253)) v.weight = static_cast<int>(*w);
                if (n.args.size() > 1 && n.args[1].text == "reverse")
                    left(n, "reverse: directord's script weights apply in their own direction only");
            } else if (k == "rise") {
                if (auto w = integer(n, 0, 1, 1000)) v.rise = static_cast<int>(*w);
            } else if (k == "fall") {
                if (auto w = integer(n, 0, 1, 1000)) v.fall = static_cast<int>(*w);
            } else if (k == "init_fail") {
                v.initFail = true;
            } else if (k == "user") {
                if (need(n, 1)) v.user = n.args[0].text;
                if (n.args.size() > 1) left(n, "group: directord uses the user's own group");
            } else {
                unsupported(n);
            }
        }
        if (!timeoutSet) v.timeout = v.interval;  // keepalived's: a run may take the whole interval
        if (v.command.empty()) {  // keepalived: "No script set for vrrp_script X - removing"
            note(s, "no script: removed, as keepalived removes it (instances tracking it track nothing)");
            return;
        }
        cfg_.vrrpScripts.push_back(std::move(v));
    }

    // One line of virtual_routes, keepalived's `ip route` words (vrrp_iproute.c): [TYPE] [src A]
    // [to] DEST [via|gw A] [dev D] [src A] [table T] [metric|priority|preference N] [scope S]
    // [no_track] [inet6]. What directord's routes do not have is reported, and the route dropped.
    // One line of virtual_rules / static_rules, as keepalived's vrrp_iprule.c reads it: the words
    // directord's rules carry (from, to, table/lookup, preference/priority/order, fwmark[/mask],
    // tos/dsfield, iif/dev, oif, inet/inet6, blackhole/unreachable/prohibit, no_track), or the whole
    // line is left with the word it cannot carry.
    std::optional<VirtualRule> rule(const Node& n) {
        std::vector<std::string> w{n.keyword};
        for (const auto& a : n.args) w.push_back(a.text);
        VirtualRule r;
        std::optional<base::Family> family;
        auto num = [&](size_t i, unsigned long long hi, unsigned long long& out) {
            if (i >= w.size()) return false;
            char* end = nullptr;
            out = std::strtoull(w[i].c_str(), &end, 0);
            return !w[i].empty() && !*end && out <= hi;
        };
        for (size_t i = 0; i < w.size(); ++i) {
            const std::string& k = w[i];
            unsigned long long v = 0;
            if (k == "inet" || k == "inet6") {
                family = k == "inet" ? base::Family::V4 : base::Family::V6;
            } else if (k == "from" || k == "to") {
                if (i + 1 >= w.size()) return left(n, k + " without an address"), std::nullopt;
                const std::string& t = w[++i];
                if (t == "all") continue;
                std::optional<base::IpPrefix> p = base::IpPrefix::parse(t);
                if (!p)
                    if (auto a = base::IpAddress::parse(t)) p = base::IpPrefix{*a, a->isV4() ? 32 : 128};
                if (!p) return left(n, "'" + t + "' is not an address or prefix"), std::nullopt;
                (k == "from" ? r.from : r.to) = *p;
            } else if (k == "table" || k == "lookup") {
                if (!num(++i, 2147483647, v) || v == 0)
                    return left(n, "the table must be a number here (1..2147483647): names from rt_tables are not read"),
                           std::nullopt;
                r.table = static_cast<int>(v);
            } else if (k == "preference" || k == "priority" || k == "order" || k == "pref" || k == "prio") {
                if (!num(++i, 4294967295ULL, v)) return left(n, "not a rule preference"), std::nullopt;
                r.priority = static_cast<std::uint32_t>(v);
            } else if (k == "fwmark") {
                if (i + 1 >= w.size()) return left(n, "fwmark without a mark"), std::nullopt;
                const std::string t = w[++i];
                const auto slash = t.find('/');
                const std::string markText = t.substr(0, slash);
                const std::string maskText = slash == std::string::npos ? std::string() : t.substr(slash + 1);
                char* end = nullptr;
                const unsigned long long mark = std::strtoull(markText.c_str(), &end, 0);
                if (markText.empty() || *end || mark > 0xffffffffULL)
                    return left(n, "'" + t + "' is not a mark[/mask]"), std::nullopt;
                r.fwmark = static_cast<std::uint32_t>(mark);
                if (slash != std::string::npos) {
                    const unsigned long long mask = std::strtoull(maskText.c_str(), &end, 0);
                    if (maskText.empty() || *end || mask > 0xffffffffULL)
                        return left(n, "'" + t + "' is not a mark[/mask]"), std::nullopt;
                    r.fwmask = static_cast<std::uint32_t>(mask);
                }
            } else if (k == "tos" || k == "dsfield") {
                if (!num(++i, 255, v)) return left(n, "not a TOS (0..255)"), std::nullopt;
                r.tos = static_cast<int>(v);
            } else if (k == "iif" || k == "dev" || k == "oif") {
                if (i + 1 >= w.size()) return left(n, k + " without an interface"), std::nullopt;
                (k == "oif" ? r.oif : r.iif) = w[++i];
            } else if (k == "blackhole" || k == "unreachable" || k == "prohibit") {
                r.action = k;
            } else if (k == "type" && i + 1 < w.size() &&
                       (w[i + 1] == "blackhole" || w[i + 1] == "unreachable" || w[i + 1] == "prohibit")) {
                r.action = w[++i];
            } else if (k == "no_track") {
                // keepalived: do not restore it when something deletes it (directord does not watch rules)
            } else {
                return left(n, "'" + k + "': directord's rules carry from, to, table, preference, fwmark, tos, iif, "
                               "oif and blackhole/unreachable/prohibit; add this rule with `ip rule` instead"),
                       std::nullopt;
            }
        }
        if (r.from) r.family = r.from->address.family();
        else if (r.to) r.family = r.to->address.family();
        else if (family) r.family = *family;
        if (r.action == "table" && r.table == 0)
            return left(n, "a rule with no table and no blackhole/unreachable/prohibit: keepalived refuses it"),
                   std::nullopt;
        return r;
    }

    std::optional<VirtualRoute> route(const Node& n) {
        std::vector<std::string> w{n.keyword};
        for (const auto& a : n.args) w.push_back(a.text);
        VirtualRoute r;
        bool haveDest = false;
        auto number = [&](const std::string& t, long long lo, long long hi) -> std::optional<long long> {
            char* end = nullptr;
            const long long x = std::strtoll(t.c_str(), &end, 0);
            if (t.empty() || *end || x < lo || x > hi) return std::nullopt;
            return x;
        };
        for (size_t i = 0; i < w.size(); ++i) {
            const std::string& t = w[i];
            const bool more = i + 1 < w.size();
            auto addr = [&](std::optional<base::IpAddress>& into) {
                if (!more || !(into = base::IpAddress::parse(w[++i]))) {
                    left(n, "'" + t + "' needs an address");
                    return false;
                }
                return true;
            };
            if (t == "blackhole" || t == "unreachable" || t == "prohibit" || t == "unicast") {
                r.type = t;
            } else if (t == "src") {
                if (!addr(r.src)) return std::nullopt;
            } else if (t == "via" || t == "gw") {
                if (!addr(r.via)) return std::nullopt;
            } else if (t == "dev" && more) {
                r.dev = w[++i];
            } else if (t == "table" && more) {
                const std::string& tv = w[++i];
                if (tv == "main") r.table = 0;
                else if (auto x = number(tv, 1, 2147483647); x && *x != 253 && *x != 255) r.table = static_cast<int>(*x);
                else {
                    left(n, "table '" + tv + "': directord takes main or a number (not local or default)");
                    return std::nullopt;
                }
            } else if ((t == "metric" || t == "priority" || t == "preference") && more) {
                if (auto x = number(w[++i], 0, 2147483647)) r.metric = static_cast<int>(*x);
                else {
                    left(n, "'" + w[i] + "' is not a metric");
                    return std::nullopt;
                }
            } else if (t == "scope" && more) {
                const std::string& s = w[++i];
                if (s != "global" && s != "site" && s != "link" && s != "host") {
                    left(n, "scope '" + s + "': directord takes global, site, link or host");
                    return std::nullopt;
                }
                r.scope = s;
            } else if (t == "no_track" || t == "inet6" || t == "inet") {
                // directord does not put an instance in FAULT when its route is deleted; the family
                // follows the addresses
            } else if (t == "to" && more) {
                continue;  // the destination follows
            } else if (!haveDest && (t == "default" || base::IpPrefix::parse(t) || base::IpAddress::parse(t))) {
                if (t == "default") {
                    const bool v6 = std::find(w.begin(), w.end(), "inet6") != w.end();
                    r.to = *base::IpPrefix::parse(v6 ? "::/0" : "0.0.0.0/0");
                } else if (auto p = base::IpPrefix::parse(t)) {
                    r.to = *p;
                } else {
                    const auto a = *base::IpAddress::parse(t);
                    r.to = base::IpPrefix{a, a.isV4() ? 32 : 128};
                }
                haveDest = true;
            } else {
                left(n, "'" + t + "' in a route: directord's virtual_routes take a type, to, via, dev, src, table, "
                        "metric and scope; the route is not carried over");
                return std::nullopt;
            }
        }
        if (!haveDest) {
            left(n, "a route without a destination");
            return std::nullopt;
        }
        if (r.via && r.via->family() != r.to.address.family()) {
            left(n, "the gateway is not of the destination's family");
            return std::nullopt;
        }
        return r;
    }

    // `weight N [reverse|noreverse]` (track_file, FILE_CHECK, an instance's track_file entry)
    void fileWeight(const Node& n, size_t at, long long lo, long long hi, std::optional<std::int64_t>& weight,
                    std::optional<bool>& reverse) {
        Node w = n;
        w.args.erase(w.args.begin(), w.args.begin() + static_cast<long>(at));
        if (auto x = integer(w, 0, lo, hi)) weight = *x;
        if (w.args.size() > 1) {
            if (w.args[1].text == "reverse" || w.args[1].text == "noreverse") reverse = w.args[1].text == "reverse";
            else left(n, "'" + w.args[1].text + "' is not reverse or noreverse");
        }
    }

    void trackFile(const Node& s) {
        if (!need(s, 1)) return;
        TrackFile f;
        f.name = s.args[0].text;
        f.where = Location{s.file, s.line};
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (k == "file") {
                if (!need(n, 1)) continue;
                f.path = n.args[0].text;
                if (f.path.empty() || f.path[0] != '/')
                    left(n, "a relative path: keepalived resolves it from its working directory; give the full path");
            } else if (k == "weight") {
                std::optional<std::int64_t> w;
                std::optional<bool> r;
                fileWeight(n, 0, -2147483647LL, 2147483647LL, w, r);
                if (w) f.weight = *w;
                if (r) f.reverse = *r;
            } else if (k == "init_file") {
                f.initValue = 0;
                for (const auto& a : n.args) {
                    if (a.text == "overwrite") {
                        f.initOverwrite = true;
                    } else {
                        char* end = nullptr;
                        const long long v = std::strtoll(a.text.c_str(), &end, 10);
                        if (a.text.empty() || *end || v < INT32_MIN || v > INT32_MAX)
                            left(n, "'" + a.text + "' is not an init_file value (keepalived writes 0)");
                        else f.initValue = v;
                    }
                }
            } else {
                unsupported(n);
            }
        }
        if (f.path.empty()) return left(s, "no file: keepalived ignores this track_file");
        cfg_.trackFiles.push_back(std::move(f));
    }

    // vrrp_track_process NAME { process P [ARGS...]; param_match [initial|partial]; weight N [reverse];
    // quorum N; quorum_max N; fork_delay / terminate_delay / delay S; full_command } (keepalived's
    // vrrp_parser.c: arguments after the process, or param_match, mean the command line is matched)
    void trackProcess(const Node& s) {
        if (!need(s, 1)) return;
        TrackProcess p;
        p.name = s.args[0].text;
        p.where = Location{s.file, s.line};
        using M = TrackProcess::ParamMatch;
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (k == "process") {
                if (!need(n, 1)) continue;
                p.process = n.args[0].text;
                for (size_t i = 1; i < n.args.size(); ++i) p.params.push_back(n.args[i].text);
                if (!p.params.empty()) {
                    if (p.paramMatch == M::None) p.paramMatch = M::Exact;
                    p.fullCommand = true;
                }
            } else if (k == "param_match") {
                const std::string how = n.args.empty() ? "" : n.args[0].text;
                if (how.empty()) p.paramMatch = M::Exact;
                else if (how == "initial") p.paramMatch = M::Initial;
                else if (how == "partial") p.paramMatch = M::Partial;
                else {
                    left(n, "'" + how + "' is not initial or partial: keepalived ignores it");
                    continue;
                }
                p.fullCommand = true;
            } else if (k == "weight") {
                std::optional<std::int64_t> w;
                std::optional<bool> r;
                fileWeight(n, 0, -254, 254, w, r);
                if (w) p.weight = static_cast<int>(*w);
                if (r) p.reverse = *r;
            } else if (k == "quorum") {
                if (auto q = integer(n, 0, 1, 65535)) p.quorum = static_cast<int>(*q);
            } else if (k == "quorum_max") {
                if (auto q = integer(n, 0, 0, 65535)) p.quorumMax = static_cast<int>(*q);
            } else if (k == "fork_delay" || k == "terminate_delay" || k == "delay") {
                if (auto d = secs(n, 0, 0.000001, 3600)) {
                    if (k != "terminate_delay") p.forkDelay = *d;
                    if (k != "fork_delay") p.terminateDelay = *d;
                }
            } else if (k == "full_command") {
                p.fullCommand = true;
            } else {
                unsupported(n);
            }
        }
        if (p.process.empty()) return left(s, "no process: keepalived ignores this vrrp_track_process");
        if (!p.fullCommand && p.process.size() > 15)
            return left(s, "process '" + p.process +
                               "' is longer than a process name (15 characters): keepalived never matches it");
        if (p.quorumMax && *p.quorumMax > 0 && *p.quorumMax < p.quorum) {
            left(s, "quorum_max is less than quorum: keepalived ignores quorum_max");
            p.quorumMax.reset();
        }
        cfg_.trackProcesses.push_back(std::move(p));
    }

    // bfd_instance NAME { neighbor_ip, source_ip, min_rx/min_tx/idle_tx (ms, 3 decimals), multiplier,
    // passive, ttl/hoplimit, max_hops, multihop }: keepalived's bfd/bfd_parser.c. keepalived drops
    // an instance with no or a bad neighbor, or a duplicate one (and says so): so does the import.
    void bfdInstance(const Node& s) {
        if (!need(s, 1)) return;
        BfdInstance b;
        b.name = s.args[0].text;
        b.where = Location{s.file, s.line};
        bool ttlSet = false;
        auto ms = [&](const Node& n, double lo, Duration& into) {
            if (auto d = secs(n, 0, lo, 4294967.0)) into = std::chrono::duration_cast<Duration>(*d / 1000);
        };
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (k == "neighbor_ip" || k == "neighbour_ip") {
                if (auto a = address(n, 0)) b.neighbor = *a;
                else return left(s, "no usable neighbor_ip: keepalived ignores this bfd_instance");
            } else if (k == "source_ip") {
                if (auto a = address(n, 0)) b.source = *a;
            } else if (k == "min_rx") {
                ms(n, 1, b.minRx);
            } else if (k == "min_tx") {
                ms(n, 1, b.minTx);
            } else if (k == "idle_tx") {
                ms(n, 1000, b.idleTx);
            } else if (k == "multiplier") {
                if (auto v = integer(n, 0, 1, 255)) b.multiplier = static_cast<int>(*v);
            } else if (k == "passive") {
                b.passive = true;
            } else if (k == "ttl" || k == "hoplimit") {
                if (auto v = integer(n, 0, 1, 255)) {
                    b.ttl = static_cast<int>(*v);
                    ttlSet = true;
                }
            } else if (k == "max_hops") {
                if (auto v = integer(n, 0, -1, 255)) b.maxHops = static_cast<int>(*v);
            } else if (k == "multihop") {
                b.multihop = flag(n);
            } else if (k == "weight") {  // the default of instances' track_bfd
                std::optional<std::int64_t> w;
                std::optional<bool> r;
                fileWeight(n, 0, -253, 253, w, r);
                if (w) b.weight = static_cast<int>(*w);
                if (r) b.reverse = *r;
            } else if (k == "vrrp" || k == "checker") {
                // which of keepalived's processes hear the session: directord's checks follow it
            } else {
                unsupported(n);
            }
        }
        if (!b.neighbor) return left(s, "no neighbor_ip: keepalived ignores this bfd_instance");
        if (b.source && b.source->family() != b.neighbor->family())
            return left(s, "source_ip and neighbor_ip of different families: keepalived ignores this bfd_instance");
        for (const auto& o : cfg_.bfdInstances)
            if (o.neighbor == b.neighbor && o.source == b.source && o.multihop == b.multihop)
                return left(s, "neighbor " + b.neighbor->str() + " is bfd_instance " + o.name +
                                   "'s already: keepalived ignores this one");
        if (!ttlSet && b.neighbor->isV6())
            note(s, "keepalived sends IPv6 BFD with hop limit 64 unless told; directord sends 255, as RFC 5881 asks "
                    "(and BFD peers check)");
        if (b.maxHops > b.ttl) {
            note(s, "max_hops exceeds ttl: set to ttl, as keepalived does");
            b.maxHops = b.ttl;
        }
        cfg_.bfdInstances.push_back(std::move(b));
    }

    // BFD_CHECK { name NAME  alpha }: keepalived's check/check_bfd.c
    void bfdCheck(const Node& s, const VirtualServer& vs, RealServer& rs) {
        CheckConfig c;
        c.type = CheckType::Bfd;
        c.where = Location{s.file, s.line};
        for (const auto& n : s.children) {
            if (n.keyword == "name" || n.keyword == "bfd_name") {
                if (need(n, 1)) c.bfd = n.args[0].text;
            } else if (n.keyword == "alpha") {
                if (flag(n) != vs.alpha) left(n, "alpha per check: directord sets it per virtual server");
            } else {
                unsupported(n);
            }
        }
        if (c.bfd.empty()) return left(s, "BFD_CHECK has no name: keepalived skips it");
        if (std::none_of(cfg_.bfdInstances.begin(), cfg_.bfdInstances.end(),
                         [&](const BfdInstance& b) { return b.name == c.bfd; }))
            return left(s, "no bfd_instance " + c.bfd + ": keepalived skips this BFD_CHECK");
        rs.checks.push_back(std::move(c));
    }

    // FILE_CHECK { track_file NAME  weight N [reverse] }: keepalived's check/check_file.c
    void fileCheck(const Node& s, RealServer& rs) {
        CheckConfig c;
        c.type = CheckType::File;
        c.where = Location{s.file, s.line};
        for (const auto& n : s.children) {
            if (n.keyword == "track_file") {
                if (need(n, 1)) c.trackFile = n.args[0].text;
            } else if (n.keyword == "weight") {
                fileWeight(n, 0, -2147483647LL, 2147483647LL, c.fileWeight, c.fileReverse);
            } else {
                unsupported(n);
            }
        }
        if (c.trackFile.empty()) return left(s, "FILE_CHECK has no track_file: keepalived ignores it");
        rs.checks.push_back(std::move(c));
    }

    std::optional<VirtualAddress> vip(const Node& n) {
        VirtualAddress va;
        auto p = base::IpPrefix::parse(n.keyword);
        if (!p) {
            left(n, "'" + n.keyword + "' is not an address or address/prefix");
            return std::nullopt;
        }
        va.prefix = *p;
        for (size_t i = 0; i < n.args.size(); ++i) {
            const std::string& w = n.args[i].text;
            const bool hasValue = i + 1 < n.args.size();
            if (w == "dev" && hasValue) va.dev = n.args[++i].text;
            else if (w == "scope" && hasValue) va.scope = n.args[++i].text;
            else if (w == "label" && hasValue) va.label = n.args[++i].text;
            else if (w == "brd" && hasValue) {
                ++i;  // the kernel computes the broadcast address from the prefix
                note(n, "brd " + n.args[i].text + ": directord lets the kernel set the broadcast address");
            } else if (w == "-nodad" || w == "no_track" || w == "home" || w == "noprefixroute" || w == "autojoin" ||
                       w == "mngtmpaddr" || w == "use_vmac") {
                left(n, w + ": not an option of directord's virtual addresses");
            } else {
                left(n, "'" + w + "': not an option of directord's virtual addresses");
                if (hasValue && (w == "peer" || w == "preferred_lft")) ++i;
            }
        }
        return va;
    }

    void vrrpInstance(const Node& s) {
        if (!need(s, 1)) return;
        VrrpInstance v;
        v.smtpAlert = vrrpMailDefault();
        v.name = s.args[0].text;
        v.where = Location{s.file, s.line};
        v.garp = garp_;
        // keepalived: the lower-priority GARPs default to the global garp repeat and delay, not to
        // this instance's own garp_master_* (vrrp.c, vrrp_complete_init)
        v.garp.lowerPrioRepeat = garp_.lowerPrioRepeat.value_or(garp_.masterRepeat);
        v.garp.lowerPrioDelay = garp_.lowerPrioDelay.value_or(garp_.masterDelay);
        bool lowerGarpSet = false;
        v.lowerPrioNoAdvert = lowerPrioNoAdvert_;
        v.higherPrioSendAdvert = higherPrioSendAdvert_;
        std::optional<int> version = version_;
        std::optional<bool> strict, accept, lowerSet, higherSet;  // as written in the instance
        std::optional<bool> v6;  // the first keyword with an address decides (keepalived's rule)
        auto family = [&](const base::IpAddress& a) {
            if (!v6) v6 = a.isV6();
        };
        std::optional<int> priority;
        const Node* authAt = nullptr;
        const Node* hmacAt = nullptr;
        std::vector<const Node*> trackIfAt;  // where each of v.trackInterfaces was written
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (k == "state") {
                if (need(n, 1)) v.initialMaster = n.args[0].text == "MASTER";
            } else if (k == "interface") {
                if (need(n, 1)) v.interface = n.args[0].text;
            } else if (k == "virtual_router_id") {
                if (auto x = integer(n, 0, 1, 255)) v.vrid = static_cast<int>(*x);
            } else if (k == "priority") {
                if (auto x = integer(n, 0, 1, 255)) priority = static_cast<int>(*x);
            } else if (k == "advert_int") {
                if (auto d = secs(n, 0, 0.01, 255)) v.advertInterval = *d;
            } else if (k == "version") {
                if (auto x = integer(n, 0, 2, 3)) version = static_cast<int>(*x);
            } else if (k == "native_ipv6") {
                if (!v6) v6 = true;
            } else if (k == "smtp_alert") {
                v.smtpAlert = flag(n);
            } else if (k == "nopreempt") {
                v.nopreempt = true;
            } else if (k == "dont_track_primary") {
                v.dontTrackPrimary = true;
            } else if (k == "use_vmac") {
                vmac(n, v);
            } else if (k == "vmac_xmit_base") {
                v.vmac.xmitBase = true;
            } else if (k == "check_unicast_src" || k == "skip_check_adv_addr") {
                // what directord does anyway (see global_defs' vrrp_check_unicast_src)
            } else if (k == "lower_prio_no_advert") {
                v.lowerPrioNoAdvert = flag(n);
                lowerSet = v.lowerPrioNoAdvert;
            } else if (k == "higher_prio_send_advert") {
                v.higherPrioSendAdvert = flag(n);
                higherSet = v.higherPrioSendAdvert;
            } else if (k == "strict_mode") {
                strict = flag(n);
            } else if (k == "accept" || k == "no_accept") {
                accept = k == "accept";
            } else if (k == "preempt") {
                // directord's default
            } else if (k == "preempt_delay") {
                if (auto d = secs(n, 0, 0, 1000)) v.preemptDelay = *d;
            } else if (k == "authentication") {
                authAt = &n;
                for (const auto& a : n.children) {
                    if (a.keyword == "auth_type" && need(a, 1)) {
                        const std::string& t = a.args[0].text;
                        if (t == "PASS") v.authType = AuthType::Pass;
                        else if (t == "AH") v.authType = AuthType::Ah;
                        else left(a, "'" + t + "' is not PASS or AH");
                    } else if (a.keyword == "auth_pass" && need(a, 1)) {
                        v.authPassword = a.args[0].text.substr(0, 8);  // keepalived uses the first 8 bytes
                    } else {
                        unsupported(a);
                    }
                }
            } else if (k == "auth_hmac") {  // keepalived 2.4 (vrrp_parser.c)
                hmacAt = &n;
                v.authHmac.enabled = true;
                for (const auto& a : n.children) {
                    if (a.keyword == "key" && need(a, 2)) {
                        HmacKey key;
                        if (auto id = integer(a, 0, 1, 255)) key.id = static_cast<int>(*id);
                        const std::string& val = a.args[1].text;
                        if (val.rfind("file:", 0) == 0) key.file = val.substr(5);
                        else key.value = val;
                        v.authHmac.keys.push_back(std::move(key));
                    } else if (a.keyword == "active_key") {
                        if (auto x = integer(a, 0, 0, 255)) v.authHmac.activeKey = static_cast<int>(*x);
                    } else if (a.keyword == "anti_replay" && need(a, 1)) {
                        const std::string& t = a.args[0].text;
                        if (t == "time" || t == "monotonic") v.authHmac.antiReplayTime = t == "time";
                        else left(a, "'" + t + "' is not time or monotonic");
                    } else if (a.keyword == "time_window") {
                        if (auto x = integer(a, 0, 1, 300)) v.authHmac.timeWindow = static_cast<int>(*x);
                    } else if (a.keyword == "mode" && need(a, 1)) {
                        const std::string& t = a.args[0].text;
                        if (t == "enforce") v.authHmac.mode = HmacMode::Enforce;
                        else if (t == "permissive") v.authHmac.mode = HmacMode::Permissive;
                        else if (t == "receive-only") v.authHmac.mode = HmacMode::ReceiveOnly;
                        else left(a, "'" + t + "' is not enforce, permissive or receive-only");
                    } else {
                        unsupported(a);
                    }
                }
            } else if (k == "virtual_ipaddress" || k == "virtual_ipaddress_excluded") {
                const bool excluded = k == "virtual_ipaddress_excluded";
                for (const auto& a : n.children)
                    if (auto va = vip(a)) {
                        // keepalived (vip_is_duplicate): a VIP again, or one an excluded VIP on the
                        // same interface has, is ignored with a warning
                        auto same = [&](const VirtualAddress& o) {
                            return o.prefix.address == va->prefix.address && (!excluded || o.dev == va->dev);
                        };
                        if (std::any_of(v.virtualAddresses.begin(), v.virtualAddresses.end(), same) ||
                            std::any_of(v.excludedAddresses.begin(), v.excludedAddresses.end(), same)) {
                            note(a, va->prefix.address.str() + " is listed already: ignored, as keepalived ignores it");
                            continue;
                        }
                        if (!excluded && v6 && *v6 != va->prefix.address.isV6()) {  // keepalived: vrrp_parser.c
                            note(a, "not of the instance's address family: ignored, as "
                                    "keepalived ignores it (list it in virtual_ipaddress_excluded to have it added)");
                            continue;
                        }
                        if (!excluded) family(va->prefix.address);
                        (excluded ? v.excludedAddresses : v.virtualAddresses).push_back(*va);
                    }
            } else if (k == "unicast_src_ip" || k == "mcast_src_ip") {
                if (auto a = need(n, 1) ? bareAddress(n, n.args[0].text) : std::nullopt) {
                    v.unicastSource = *a;
                    family(*a);
                }
                if (k == "mcast_src_ip")
                    note(n, "directord's unicast_source also sets the source of multicast adverts");
            } else if (k == "unicast_fault_no_peer") {
                v.unicastFaultNoPeer = true;
            } else if (k == "unicast_peer") {
                for (const auto& a : n.children) {
                    auto ip = bareAddress(a, a.keyword);
                    if (ip) {
                        family(*ip);
                        v.unicastPeers.push_back(*ip);
                    }
                    if (!a.args.empty()) left(a, "min_ttl / max_ttl: directord checks no TTL on unicast adverts");
                }
            } else if (trackItems(n, v, &trackIfAt)) {
            } else if (k == "virtual_routes") {
                for (const auto& a : n.children)
                    if (auto r = route(a)) v.virtualRoutes.push_back(*r);
            } else if (k == "virtual_rules") {
                for (const auto& a : n.children)
                    if (auto r = rule(a)) v.virtualRules.push_back(*r);
            } else if (k == "garp_master_delay") {
                if (auto d = secs(n, 0, 0, 3600)) v.garp.masterDelay = *d;
            } else if (k == "garp_master_repeat") {
                if (auto x = integer(n, 0, 0, 100)) v.garp.masterRepeat = static_cast<int>(*x);
            } else if (k == "garp_lower_prio_repeat") {
                if (auto x = integer(n, 0, 0, 100)) v.garp.lowerPrioRepeat = static_cast<int>(*x);
                lowerGarpSet = true;
            } else if (k == "garp_lower_prio_delay") {
                if (auto d = secs(n, 0, 0, 3600)) v.garp.lowerPrioDelay = *d;
                lowerGarpSet = true;
            } else if (k == "notify_master_rx_lower_pri") {
                if (auto c = command(n, false)) v.notifyMasterRxLowerPri = *c;
            } else if (k == "garp_master_refresh") {
                if (auto d = secs(n, 0, 0, 86400)) v.garp.masterRefresh = *d;
            } else if (k == "garp_master_refresh_repeat") {
                if (auto x = integer(n, 0, 1, 100)) v.garp.masterRefreshRepeat = static_cast<int>(*x);
            } else if (k == "notify_master" || k == "notify_backup" || k == "notify_fault" || k == "notify_stop" ||
                       k == "notify") {
                notify(n, v.notify);
            } else if (k == "lvs_sync_daemon_interface") {
                if (need(n, 1)) {
                    cfg_.global.syncDaemon.enabled = true;
                    cfg_.global.syncDaemon.interface = n.args[0].text;
                    cfg_.global.syncDaemon.vrrpInstance = v.name;
                }
            } else {
                unsupported(n);
            }
        }
        if (v.vmac.enabled && !v.unicastPeers.empty() && !v.vmac.xmitBase) {  // keepalived's vrrp_end_handler
            note(s, "unicast with use_vmac sends from the interface itself (vmac_xmit_base), as keepalived does");
            v.vmac.xmitBase = true;
        }
        if (v6.value_or(false)) {
            v.family = base::Family::V6;
            if (version && *version == 2) note(s, "an IPv6 instance speaks VRRPv3 (keepalived does the same)");
            version = 3;
        }
        v.version = version.value_or(2);
        for (size_t i = v.trackInterfaces.size(); i-- > 0;)  // keepalived (vrrp.c): "Ignoring track_interface
            if (v.trackInterfaces[i].interface == v.interface) {  // X since own interface"
                note(*trackIfAt[i], "the instance's own interface: ignored, as keepalived ignores it (the own "
                                    "interface is always tracked: down is FAULT)");
                v.trackInterfaces.erase(v.trackInterfaces.begin() + static_cast<std::ptrdiff_t>(i));
            }
        if (hmacAt) {  // keepalived's vrrp_complete_instance, for auth_hmac
            const bool known = std::any_of(v.authHmac.keys.begin(), v.authHmac.keys.end(),
                                           [&](const HmacKey& key) { return key.id == v.authHmac.activeKey; });
            if (!known) {
                note(*hmacAt, "active_key " + std::to_string(v.authHmac.activeKey) +
                                  " is not one of its keys: keepalived disables auth_hmac, so adverts go unsigned");
                v.authHmac = AuthHmac{};
            } else if (v.authType != AuthType::None) {
                note(authAt ? *authAt : *hmacAt, "authentication is ignored with auth_hmac (keepalived does the same)");
                v.authType = AuthType::None;
                v.authPassword.clear();
            }
            if (v.authHmac.enabled && strict.value_or(strict_) && v.authHmac.mode != HmacMode::Enforce) {
                note(*hmacAt, "strict mode: auth_hmac mode enforce (as keepalived forces it)");
                v.authHmac.mode = HmacMode::Enforce;
            }
        }
        if (v.version == 3 && authAt && v.authType != AuthType::None) {  // keepalived: "Ignoring."
            note(*authAt, "VRRPv3 has no authentication: ignored, as keepalived ignores it");
            v.authType = AuthType::None;
            v.authPassword.clear();
        }
        // keepalived: `state MASTER` with no priority is the address owner
        v.priority = priority.value_or(v.initialMaster ? 255 : 100);
        if (v.nopreempt && (v.priority == 255 || v.initialMaster)) {
            note(s, "nopreempt is ignored with state MASTER or priority 255 (as keepalived ignores it)");
            v.nopreempt = false;
        }
        strictMode(s, v, strict.value_or(strict_), accept, lowerSet, higherSet, lowerGarpSet);
        if (const auto& global = v.family == base::Family::V6 ? gnaInterval_ : garpInterval_) v.garp.interval = *global;
        if (v.version == 2) {  // VRRPv2 adverts carry whole seconds: keepalived rounds
            const long whole = std::max(1L, std::lround(base::toSeconds(v.advertInterval)));
            if (base::seconds(static_cast<double>(whole)) != v.advertInterval)
                note(s, "advert_int is " + std::to_string(whole) +
                            " s: VRRPv2 carries whole seconds (keepalived rounds too)");
            v.advertInterval = std::chrono::seconds(whole);
        }
        cfg_.vrrpInstances.push_back(std::move(v));
    }

    // vrrp_strict / strict_mode and accept / no_accept, as keepalived's vrrp_complete_instance reads
    // them: strict mode turns off what RFC 5798 does not have (each with keepalived's warning, as a
    // note) and makes accept mode off by default for a non-owner.
    void strictMode(const Node& s, VrrpInstance& v, bool strict, std::optional<bool> accept,
                    std::optional<bool> lowerSet, std::optional<bool> higherSet, bool lowerGarpSet) {
        if (strict) {
            auto reset = [&](bool cond, const std::string& what) {
                if (cond) note(s, "strict mode: " + what + " (as keepalived resets it)");
                return cond;
            };
            if (reset(v.authType != AuthType::None, "no authentication")) {
                v.authType = AuthType::None;
                v.authPassword.clear();
            }
            if (reset(v.preemptDelay > base::Duration::zero(), "no preempt_delay")) v.preemptDelay = {};
            if (reset(v.vmac.xmitBase, "no vmac_xmit_base")) v.vmac.xmitBase = false;
            if (reset(v.initialMaster && v.priority != 255, "state MASTER only for the address owner (priority 255)"))
                v.initialMaster = false;
            reset(lowerSet == false, "lower_prio_no_advert is set");
            reset(higherSet == true, "higher_prio_send_advert is cleared");
            v.lowerPrioNoAdvert = true;
            v.higherPrioSendAdvert = false;
            reset(lowerGarpSet && (v.garp.lowerPrioRepeat.value_or(0) || v.garp.lowerPrioDelay.value_or(base::Duration{}) >
                                                                              base::Duration::zero()),
                  "no garp_lower_prio_repeat / garp_lower_prio_delay");
            v.garp.lowerPrioRepeat = 0;
            v.garp.lowerPrioDelay = base::Duration::zero();
            if (!v.unicastPeers.empty())
                left(s, "keepalived refuses unicast peers in strict mode: the instance does not run under keepalived");
        }
        // keepalived: accept unless said otherwise, except in strict mode, where only the owner accepts
        v.acceptMode = accept.value_or(v.priority == 255 || !strict);
        if (strict && v.acceptMode && v.priority != 255 && v.version == 2) {
            note(s, "strict mode: accept mode for VRRPv2 does not comply with RFC 3768, reset (as keepalived does)");
            v.acceptMode = false;
        }
    }

    // use_vmac [[name] NAME] [MAC] [netlink_notify_msg] [group G], as keepalived's vrrp_vmac_handler
    void vmac(const Node& n, VrrpInstance& v) {
        v.vmac.enabled = true;
        for (size_t i = 0; i < n.args.size(); ++i) {
            const std::string& w = n.args[i].text;
            if (w.find(':') != std::string::npos) {
                left(n, "the MAC " + w + ": directord's VMAC has the RFC 5798 MAC (00:00:5e:00:01:VRID)");
            } else if (w == "netlink_notify_msg") {
                note(n, "netlink_notify_msg: directord follows links itself; nothing to force");
            } else if (w == "group") {
                if (++i < n.args.size())
                    left(n, "group " + n.args[i].text + ": directord's VMAC takes its interface's group");
            } else {
                if (w == "name" && i + 1 < n.args.size()) ++i;
                const std::string& name = n.args[i].text;
                if (!v.vmac.name.empty()) note(n, "a second name (" + name + ") is ignored, as keepalived ignores it");
                else if (name.empty() || name.size() > 15 || name == "." || name == ".." ||
                         name.find_first_of("/: \t") != std::string::npos)
                    note(n, "'" + name + "' is not an interface name: keepalived's own name is used, as keepalived "
                                         "does");
                else v.vmac.name = name;
            }
        }
    }

    void notify(const Node& n, NotifyConfig& to) {
        auto c = command(n, false);
        if (!c) return;
        const std::string& k = n.keyword;
        (k == "notify_master"   ? to.master
         : k == "notify_backup" ? to.backup
         : k == "notify_fault"  ? to.fault
         : k == "notify_stop"   ? to.stop
                                : to.generic) = *c;
    }

    void syncGroup(const Node& s) {
        if (!need(s, 1)) return;
        SyncGroup g;
        g.smtpAlert = vrrpMailDefault();
        g.name = s.args[0].text;
        GroupTracking& gt = groupTracking_[g.name];
        gt = GroupTracking{};
        gt.where = &s;
        g.where = Location{s.file, s.line};
        for (const auto& n : s.children) {
            if (n.keyword == "group") {
                for (const auto& m : n.children) {
                    g.members.push_back(m.keyword);
                    for (const auto& a : m.args) g.members.push_back(a.text);
                }
            } else if (n.keyword == "smtp_alert") {
                g.smtpAlert = flag(n);
            } else if (n.keyword == "notify_master" || n.keyword == "notify_backup" || n.keyword == "notify_fault" ||
                       n.keyword == "notify_stop" || n.keyword == "notify") {
                notify(n, g.notify);
            } else if (trackItems(n, gt.items, nullptr)) {
                // added to every member (applyGroupTracking), as keepalived's sync_group_tracking_init
            } else if (n.keyword == "sync_group_tracking_weight") {
                gt.weighted = true;
            } else if (n.keyword == "global_tracking") {
                gt.weighted = true;
                note(n, "global_tracking is deprecated (keepalived warns so too): read as sync_group_tracking_weight");
            } else if (instances_.contains(n.keyword) && n.args.empty() && !n.block) {
                // keepalived 1's form. keepalived 2 reads it as an unknown keyword: the instance is
                // not a member (and a group left with none is removed), so it is not one here
                note(n, "an instance outside group { }: not a member, as keepalived 2 reads it (\"Unknown keyword\"); "
                        "write group { " + n.keyword + " ... } to make it one");
            } else {
                unsupported(n);
            }
        }
        if (g.members.empty()) {  // keepalived: "Sync group X has no virtual router(s). removing"
            note(s, "no members: removed, as keepalived removes it");
            return;
        }
        cfg_.syncGroups.push_back(std::move(g));
    }

    void vsGroup(const Node& s) {
        if (!need(s, 1)) return;
        auto& entries = groups_[s.args[0].text];
        for (const auto& n : s.children) {
            if (n.keyword == "fwmark") {
                GroupEntry e;
                if (auto m = integer(n, 0, 1, 4294967295LL)) e.fwmark = static_cast<std::uint32_t>(*m);
                else continue;
                if (n.args.size() > 1) e.family = n.args[1].text == "inet6" ? base::Family::V6 : base::Family::V4;
                entries.push_back(e);
                continue;
            }
            std::string why = "not an address, a range or fwmark N";
            auto addrs = addressRange(n.keyword, why);
            if (!addrs) {
                left(n, why);
                continue;
            }
            int port = 0;
            if (!n.args.empty()) {
                auto p = integer(n, 0, 0, 65535);
                if (!p) continue;
                port = static_cast<int>(*p);
            }
            for (const auto& a : *addrs) entries.push_back({a, port, 0, std::nullopt});
        }
    }

    void timing(const Node& n, Timing& t) {
        const std::string& k = n.keyword;
        if (k == "delay_loop") t.delayLoop = secs(n, 0, 0.01, 86400);
        else if (k == "connect_timeout") t.connectTimeout = secs(n, 0, 0.01, 3600);
        else if (k == "delay_before_retry") t.delayBeforeRetry = secs(n, 0, 0, 3600);
        else if (k == "warmup") t.warmup = secs(n, 0, 0, 86400);
        else if (k == "retry" || k == "nb_get_retry") {
            if (auto r = integer(n, 0, 0, 100)) t.retry = static_cast<int>(*r);
        } else if (k == "virtualhost") {
            if (need(n, 1)) t.virtualhost = n.args[0].text;
        }
    }
    static bool isTiming(const std::string& k) {
        return k == "delay_loop" || k == "connect_timeout" || k == "delay_before_retry" || k == "warmup" ||
               k == "retry" || k == "nb_get_retry" || k == "virtualhost";
    }

    std::optional<Forwarding> method(const Node& n, Tunnel* tunnel) {
        if (!need(n, 1)) return std::nullopt;
        const std::string& m = n.args[0].text;
        if (m == "NAT") return Forwarding::Masq;
        if (m == "DR") return Forwarding::Route;
        if (m != "TUN") {
            left(n, "'" + m + "' is not NAT, DR or TUN");
            return std::nullopt;
        }
        for (size_t i = 1; i < n.args.size(); ++i) {
            const std::string& w = n.args[i].text;
            if (!tunnel) {
                left(n, "tunnel options on a real server: directord sets them per virtual server");
                break;
            }
            if (w == "type" && i + 1 < n.args.size()) {
                const std::string& t = n.args[++i].text;
                tunnel->type = t == "gue" ? TunnelType::Gue : t == "gre" ? TunnelType::Gre : TunnelType::Ipip;
            } else if (w == "port" && i + 1 < n.args.size()) {
                if (auto p = integer(n, ++i, 0, 65535)) tunnel->port = static_cast<int>(*p);
            } else if (w == "nocsum" || w == "csum" || w == "remcsum") {
                tunnel->checksum = w == "csum"      ? TunnelChecksum::Csum
                                   : w == "remcsum" ? TunnelChecksum::RemCsum
                                                    : TunnelChecksum::NoCsum;
            } else {
                left(n, "'" + w + "' is not a tunnel option");
            }
        }
        return Forwarding::Tunnel;
    }

    void virtualServer(const Node& s) {
        if (!need(s, 1)) return;
        std::vector<GroupEntry> targets;
        const std::string& first = s.args[0].text;
        if (first == "group") {
            if (!need(s, 2)) return;
            auto it = groups_.find(s.args[1].text);
            if (it == groups_.end() || it->second.empty()) {
                left(s, "no virtual_server_group '" + s.args[1].text + "' (or it is empty)");
                return;
            }
            targets = it->second;
        } else if (first == "fwmark") {
            auto m = integer(s, 1, 1, 4294967295LL);
            if (!m) return;
            targets.push_back({std::nullopt, 0, static_cast<std::uint32_t>(*m), std::nullopt});
        } else {
            auto a = address(s, 0);
            if (!a) return;
            int port = 0;
            if (s.args.size() > 1) {
                auto p = integer(s, 1, 0, 65535);
                if (!p) return;
                port = static_cast<int>(*p);
            }
            targets.push_back({*a, port, 0, std::nullopt});
        }
        VirtualServer vs;
        vs.smtpAlert = vsMailDefault();
        vs.where = Location{s.file, s.line};
        bool protocolSet = false;
        std::optional<int> weight;  // the real servers' default
        Timing t;
        std::optional<base::Family> markFamily;
        std::vector<const Node*> reals;
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (isTiming(k)) {
                timing(n, t);
            } else if (k == "lb_algo" || k == "lvs_sched") {
                if (need(n, 1)) vs.scheduler = n.args[0].text;
            } else if (k == "lb_kind" || k == "lvs_method") {
                if (auto m = method(n, &vs.tunnel)) vs.forwarding = *m;
            } else if (k == "persistence_timeout") {
                if (n.args.empty()) {
                    vs.persistenceTimeout = 360;  // keepalived's when no value is given
                } else if (n.args[0].text == "0") {
                    // keepalived reports 0 invalid and keeps no persistence: so does the import
                    vs.persistenceTimeout = 0;
                    note(n, "persistence_timeout 0: no persistence, as under keepalived (which calls the 0 invalid)");
                } else if (auto v = integer(n, 0, 1, 2678400)) {
                    vs.persistenceTimeout = static_cast<int>(*v);
                }
            } else if (k == "persistence_granularity") {
                if (!need(n, 1)) continue;
                auto m = base::IpAddress::parse(n.args[0].text);
                char* end = nullptr;
                const long bits = std::strtol(n.args[0].text.c_str(), &end, 10);
                if (m && m->isV4()) {
                    const std::uint32_t mask = m->v4HostOrder();
                    vs.persistenceNetmask = __builtin_popcount(mask);
                } else if (!*end && bits >= 0 && bits <= 128) {
                    vs.persistenceNetmask = static_cast<int>(bits);
                } else {
                    left(n, "'" + n.args[0].text + "' is not a netmask or prefix length");
                }
            } else if (k == "persistence_engine") {
                if (need(n, 1)) vs.persistenceEngine = n.args[0].text;
            } else if (k == "protocol") {
                if (!need(n, 1)) continue;
                const std::string& p = n.args[0].text;
                protocolSet = true;
                if (p == "TCP" || p == "UDP" || p == "SCTP")
                    vs.protocol = p == "TCP" ? "tcp" : p == "UDP" ? "udp" : "sctp";
                else left(n, "'" + p + "' is not TCP, UDP or SCTP");
            } else if (k == "weight") {
                if (auto w = integer(n, 0, 0, 65535)) weight = static_cast<int>(*w);
            } else if (k == "smtp_alert") {
                vs.smtpAlert = flag(n);
            } else if (k == "ha_suspend") {
                vs.haSuspend = true;
            } else if (k == "alpha") {
                vs.alpha = flag(n);
            } else if (k == "omega") {
                vs.omega = flag(n);
            } else if (k == "quorum") {
                if (auto v = integer(n, 0, 0, 1 << 30)) vs.quorum = static_cast<int>(*v);
            } else if (k == "hysteresis") {
                if (auto v = integer(n, 0, 0, 1 << 30)) vs.hysteresis = static_cast<int>(*v);
            } else if (k == "quorum_up" || k == "quorum_down") {
                if (auto c = command(n, false)) (k == "quorum_up" ? vs.quorumUp : vs.quorumDown) = *c;
            } else if (k == "sorry_server") {
                auto a = address(n, 0);
                if (!a) continue;
                SorryServer ss;
                ss.address = *a;
                ss.port = targets[0].port;
                if (n.args.size() > 1)
                    if (auto p = integer(n, 1, 0, 65535)) ss.port = static_cast<int>(*p);
                if (vs.sorryServer) ss.forwarding = vs.sorryServer->forwarding;
                vs.sorryServer = ss;
            } else if (k == "sorry_server_lvs_method") {
                auto m = method(n, nullptr);
                if (!m) continue;
                if (!vs.sorryServer) vs.sorryServer = SorryServer{};
                vs.sorryServer->forwarding = *m;
            } else if (k == "inhibit_on_failure") {
                vs.inhibitOnFailure = flag(n);
            } else if (k == "ops") {
                vs.onePacket = true;
            } else if (k == "sh-port" || k == "mh-port" || k == "flag-2") {
                vs.schedPort = true;
            } else if (k == "sh-fallback" || k == "mh-fallback" || k == "flag-1") {
                vs.schedFallback = true;
            } else if (k == "ip_family") {
                if (need(n, 1)) markFamily = n.args[0].text == "inet6" ? base::Family::V6 : base::Family::V4;
            } else if (k == "real_server") {
                reals.push_back(&n);
            } else {
                unsupported(n);
            }
        }
        // keepalived's defaults where they differ from directord's
        if (t.delayLoop) vs.delayLoop = *t.delayLoop;
        if (t.connectTimeout) vs.connectTimeout = *t.connectTimeout;
        if (t.retry) vs.retry = *t.retry;
        if (t.delayBeforeRetry) vs.delayBeforeRetry = *t.delayBeforeRetry;
        vs.warmup = t.warmup.value_or(vs.delayLoop);  // keepalived: a random start within delay_loop
        if (t.virtualhost) vs.virtualhost = *t.virtualhost;
        if (!protocolSet && !targets[0].fwmark) {
            vs.protocol = "udp";
            note(
                s,
                "no protocol: keepalived makes it UDP (and warns); so does the import. Write protocol TCP if that was meant");
        }
        for (const Node* r : reals) realServer(*r, vs, t, weight);
        for (const auto& target : targets) {
            VirtualServer one = vs;
            if (target.fwmark) {
                one.fwmark = target.fwmark;
                one.address.reset();
                one.port = 0;
                one.family = target.family.value_or(markFamily.value_or(base::Family::V4));
                if (!target.family && !markFamily && !one.realServers.empty() && one.realServers[0].address.isV6())
                    one.family = base::Family::V6;
            } else {
                one.address = target.address;
                one.port = target.port;
                one.family = target.address->family();
                for (auto& rs : one.realServers)
                    if (rs.port == 0 && one.port != 0) rs.port = one.port;
                if (one.sorryServer && one.sorryServer->port == 0) one.sorryServer->port = one.port;
            }
            cfg_.virtualServers.push_back(std::move(one));
        }
    }

    void realServer(const Node& s, VirtualServer& vs, const Timing& vsTiming, std::optional<int> weight) {
        auto a = address(s, 0);
        if (!a) return;
        RealServer rs;
        rs.smtpAlert = rsMailDefault();
        rs.address = *a;
        rs.weight = weight.value_or(1);
        rs.where = Location{s.file, s.line};
        if (s.args.size() > 1)
            if (auto p = integer(s, 1, 0, 65535)) rs.port = static_cast<int>(*p);
        Timing t;
        std::vector<const Node*> checkers;
        for (const auto& n : s.children) {
            const std::string& k = n.keyword;
            if (isTiming(k)) {
                timing(n, t);
            } else if (k == "weight") {
                if (auto w = integer(n, 0, 0, 65535)) rs.weight = static_cast<int>(*w);
            } else if (k == "smtp_alert") {
                rs.smtpAlert = flag(n);
            } else if (k == "inhibit_on_failure") {
                rs.inhibitOnFailure = flag(n);
            } else if (k == "notify_up" || k == "notify_down") {
                if (auto c = command(n, false)) (k == "notify_up" ? rs.notifyUp : rs.notifyDown) = *c;
            } else if (k == "uthreshold") {
                if (auto w = integer(n, 0, 0, 65535)) rs.upperThreshold = static_cast<int>(*w);
            } else if (k == "lthreshold") {
                if (auto w = integer(n, 0, 0, 65535)) rs.lowerThreshold = static_cast<int>(*w);
            } else if (k == "lvs_method" || k == "lb_kind") {
                if (auto m = method(n, nullptr)) rs.forwarding = *m;
            } else if (k == "alpha") {
                if (flag(n) != vs.alpha) left(n, "alpha per real server: directord sets it per virtual server");
            } else if (k == "TCP_CHECK" || k == "HTTP_GET" || k == "SSL_GET" || k == "MISC_CHECK" || k == "UDP_CHECK" ||
                       k == "DNS_CHECK" || k == "SMTP_CHECK" || k == "PING_CHECK") {
                checkers.push_back(&n);
            } else if (k == "FILE_CHECK") {
                fileCheck(n, rs);
            } else if (k == "BFD_CHECK") {
                bfdCheck(n, vs, rs);
            } else {
                unsupported(n);
            }
        }
        for (const Node* c : checkers) checker(*c, vs, vsTiming, t, rs);
        vs.realServers.push_back(std::move(rs));
    }

    // A keyword's arguments as one string, as keepalived's make_strvec_str joins them.
    static std::string joined(const Node& n) {
        std::string out;
        for (const auto& a : n.args) out += (out.empty() ? "" : " ") + a.text;
        return out;
    }

    // Sync groups' tracking, as keepalived 2.2.7 applies it (vrrp.c: vrrp_complete_instance and
    // sync_group_tracking_init). Without sync_group_tracking_weight (or for a priority 255 member),
    // a member's own weighted items cannot move one member alone: interfaces become FAULT-on-down
    // (removed for priority 255), weighted scripts and BFDs are dropped, a track file of weight 1
    // becomes a status (weight 0) and one of another weight is dropped; processes are kept. Then
    // the group's items go on every member with the group's weights (0 when a member is the
    // address owner); an item the member tracks already takes the group's weight unless its own is 0.
    void applyGroupTracking() {
        auto scriptWeight = [&](const TrackScript& t) {
            if (t.weight) return *t.weight;
            for (const auto& d : cfg_.vrrpScripts)
                if (d.name == t.script) return d.weight;
            return 0;
        };
        auto fileWeight = [&](const TrackFileRef& t) -> std::int64_t {
            if (t.weight) return *t.weight;
            for (const auto& d : cfg_.trackFiles)
                if (d.name == t.file) return d.weight;
            return 1;
        };
        auto bfdWeight = [&](const TrackBfdRef& t) {
            if (t.weight) return *t.weight;
            for (const auto& d : cfg_.bfdInstances)
                if (d.name == t.bfd) return d.weight;
            return 0;
        };
        for (const auto& g : cfg_.syncGroups) {
            auto gi = groupTracking_.find(g.name);
            if (gi == groupTracking_.end()) continue;
            const GroupTracking& gt = gi->second;
            std::vector<VrrpInstance*> members;
            for (const auto& name : g.members)
                for (auto& v : cfg_.vrrpInstances)
                    if (v.name == name) members.push_back(&v);
            const bool owner = std::any_of(members.begin(), members.end(), [](const VrrpInstance* v) { return v->priority == 255; });
            const Node& at = *gt.where;
            auto say = [&](const VrrpInstance& v, const std::string& what) {
                note(at, "(" + v.name + ") " + what + " due to SYNC group " + g.name + " (as keepalived)");
            };
            for (VrrpInstance* v : members) {
                if (!gt.weighted || v->priority == 255) {
                    for (auto it = v->trackInterfaces.begin(); it != v->trackInterfaces.end();) {
                        if (it->weight == 0) { ++it; continue; }
                        say(*v, "ignoring " + it->interface + " tracked interface weight");
                        if (v->priority == 255) { it = v->trackInterfaces.erase(it); continue; }
                        it->weight = 0;
                        ++it;
                    }
                    std::erase_if(v->trackScripts, [&](const TrackScript& t) {
                        if (scriptWeight(t) == 0) return false;
                        say(*v, "ignoring tracked script " + t.script + " with weights");
                        return true;
                    });
                    std::erase_if(v->trackFiles, [&](TrackFileRef& t) {
                        const std::int64_t w = fileWeight(t);
                        if (w == 0) return false;
                        if (w == 1) {
                            say(*v, "ignoring weight from tracked file " + t.file + ": specify weight 0");
                            t.weight = 0;
                            return false;
                        }
                        say(*v, "ignoring tracked file " + t.file + " with weight " + std::to_string(w));
                        return true;
                    });
                    std::erase_if(v->trackBfds, [&](const TrackBfdRef& t) {
                        if (bfdWeight(t) == 0) return false;
                        say(*v, "ignoring tracked bfd " + t.bfd + " with weight " + std::to_string(bfdWeight(t)));
                        return true;
                    });
                }
                for (const auto& t : gt.items.trackInterfaces) {
                    if (t.interface == v->interface) continue;  // its own link: FAULT when down already
                    const int w = owner ? 0 : t.weight;
                    auto it = std::find_if(v->trackInterfaces.begin(), v->trackInterfaces.end(),
                                           [&](const TrackInterface& m) { return m.interface == t.interface; });
                    if (it == v->trackInterfaces.end()) v->trackInterfaces.push_back({t.interface, w});
                    else if (it->weight != 0) it->weight = w;
                }
                // (keepalived copies the group's reverse too, except for processes)
                auto merge = [&](auto& mine, const auto& theirs, auto name, auto weightOf, bool withReverse) {
                    for (auto t : theirs) {
                        if (owner) t.weight = 0;
                        auto it = std::find_if(mine.begin(), mine.end(), [&](const auto& m) { return m.*name == t.*name; });
                        if (it == mine.end()) {
                            mine.push_back(t);
                        } else if (weightOf(*it) != 0) {
                            it->weight = t.weight;
                            if constexpr (requires { it->reverse; })
                                if (withReverse) it->reverse = t.reverse;
                        }
                    }
                };
                merge(v->trackScripts, gt.items.trackScripts, &TrackScript::script, scriptWeight, false);
                merge(v->trackFiles, gt.items.trackFiles, &TrackFileRef::file, fileWeight, true);
                merge(v->trackBfds, gt.items.trackBfds, &TrackBfdRef::bfd, bfdWeight, true);
                merge(v->trackProcesses, gt.items.trackProcesses, &TrackProcessRef::process,
                      [&](const TrackProcessRef& t) {
                          if (t.weight) return *t.weight;
                          for (const auto& d : cfg_.trackProcesses)
                              if (d.name == t.process) return d.weight;
                          return 0;
                      },
                      false);
            }
        }
    }

    // An instance's or a sync group's track_interface / track_script / track_file / track_bfd /
    // track_process block, into `v`'s lists; false when `n` is none of them. `ifAt`: where each
    // interface was written (an instance's, for its notes).
    bool trackItems(const Node& n, VrrpInstance& v, std::vector<const Node*>* ifAt) {
        // `NAME weight N [reverse]` of a tracked interface or script: N within +-253
        auto weightArg = [&](const Node& a) -> std::optional<int> {
            if (a.args.size() < 2 || a.args[0].text != "weight") return std::nullopt;
            Node w = a;
            w.args.erase(w.args.begin());
            const auto x = integer(w, 0, -253, 253);
            if (a.args.size() > 2 && a.args[2].text == "reverse")
                left(a, "reverse: directord's weights apply in their own direction only");
            if (x) return static_cast<int>(*x);
            return std::nullopt;
        };
        const std::string& k = n.keyword;
        if (k == "track_interface") {
            for (const auto& a : n.children) {
                TrackInterface t;
                t.interface = a.keyword;
                if (auto w = weightArg(a)) t.weight = *w;
                v.trackInterfaces.push_back(t);
                if (ifAt) ifAt->push_back(&a);
            }
        } else if (k == "track_file") {
            for (const auto& a : n.children) v.trackFiles.push_back(trackRef<TrackFileRef>(a, 254));
        } else if (k == "track_bfd") {
            for (const auto& a : n.children) v.trackBfds.push_back(trackRef<TrackBfdRef>(a, 253));
        } else if (k == "track_process") {
            for (const auto& a : n.children) v.trackProcesses.push_back(trackRef<TrackProcessRef>(a, 254));
        } else if (k == "track_script") {
            for (const auto& a : n.children) {
                TrackScript t;
                t.script = a.keyword;
                t.where = Location{a.file, a.line};
                t.weight = weightArg(a);
                v.trackScripts.push_back(t);
            }
        } else {
            return false;
        }
        return true;
    }

    // One line of an instance's track_file / track_bfd / track_process block: `NAME [weight N [reverse]]` (weight
    // within +-limit, keepalived's range for each).
    template <typename Ref>
    Ref trackRef(const Node& a, std::int64_t limit) {
        Ref t;
        if constexpr (std::is_same_v<Ref, TrackFileRef>) t.file = a.keyword;
        else if constexpr (std::is_same_v<Ref, TrackProcessRef>) t.process = a.keyword;
        else t.bfd = a.keyword;
        t.where = Location{a.file, a.line};
        if (a.args.size() >= 2 && a.args[0].text == "weight") {
            std::optional<std::int64_t> w;
            fileWeight(a, 1, -limit, limit, w, t.reverse);
            if (w) t.weight = static_cast<int>(*w);
        } else if (!a.args.empty()) {
            left(a, "'" + a.args[0].text + "': keepalived takes only weight N [reverse]");
        }
        return t;
    }

    // A checker's connection option (connect_ip, connect_port, bindto, bind_port, bind_if, fwmark),
    // read into `c`; false when `n` is none of them.
    bool connection(const Node& n, CheckConfig& c) {
        const std::string& kw = n.keyword;
        if (kw == "connect_ip") {
            if (auto a = address(n, 0)) c.connectIp = *a;
        } else if (kw == "connect_port") {
            if (auto p = integer(n, 0, 1, 65535)) c.connectPort = static_cast<int>(*p);
        } else if (kw == "bindto") {
            if (auto a = address(n, 0)) c.bindIp = *a;
        } else if (kw == "bind_port") {
            if (auto p = integer(n, 0, 1, 65535)) c.bindPort = static_cast<int>(*p);
        } else if (kw == "bind_if") {
            if (!need(n, 1)) return true;
            if (n.args[0].text.size() > 15) left(n, "'" + n.args[0].text + "' is longer than an interface name");
            else c.bindInterface = n.args[0].text;
        } else if (kw == "fwmark") {
            if (auto m = integer(n, 0, 0, 4294967295LL)) c.fwmark = static_cast<std::uint32_t>(*m);
        } else {
            return false;
        }
        return true;
    }

    // What connection() reads: where a check connects and from (connect_ip, connect_port, bindto,
    // bind_port, bind_if, fwmark).
    static bool hasConnection(const CheckConfig& c) {
        return c.connectIp || c.connectPort || c.bindIp || c.bindPort || !c.bindInterface.empty() || c.fwmark;
    }
    static void clearConnection(CheckConfig& c) {
        c.connectIp.reset();
        c.connectPort.reset();
        c.bindIp.reset();
        c.bindPort = 0;
        c.bindInterface.clear();
        c.fwmark = 0;
    }

    // SMTP_CHECK's host blocks, as keepalived 2 reads them (check_smtp.c): each host is a checker of
    // its own with the main one's settings and its own connect_ip/connect_port/bindto/bind_port/
    // bind_if/fwmark/connect_timeout; when the main block sets none of those itself, the first host
    // takes its place (the real server's own address is then not checked).
    void smtpHosts(const Node& s, const std::vector<const Node*>& hosts, CheckConfig main, const Timing& mainT,
                   const Timing& rsT, RealServer& rs) {
        note(s, "host blocks: one smtp check per host (keepalived calls them deprecated: define more checks)");
        if (hasConnection(main) || mainT.connectTimeout) rs.checks.push_back(main);
        for (const Node* h : hosts) {
            CheckConfig one = main;
            one.where = Location{h->file, h->line};
            clearConnection(one);
            one.connectTimeout = rsT.connectTimeout;  // keepalived's intent: the real server's, else the virtual server's
            bool timeoutSet = false;
            for (const auto& n : h->children) {
                if (connection(n, one)) continue;
                if (n.keyword == "connect_timeout") {
                    Timing ht;
                    timing(n, ht);
                    if (ht.connectTimeout) one.connectTimeout = ht.connectTimeout;
                    timeoutSet = true;
                } else {
                    unsupported(n);
                }
            }
            if (!timeoutSet)
                note(*h, "no connect_timeout: the real server's (or virtual server's) is used, as keepalived means to; "
                         "keepalived 2.2 reads it as 0 (its host blocks start zeroed), which is not carried over");
            rs.checks.push_back(std::move(one));
        }
    }

    void checker(const Node& s, const VirtualServer& vs, const Timing& vsT, const Timing& rsT, RealServer& rs) {
        CheckConfig c;
        c.where = Location{s.file, s.line};
        const std::string& k = s.keyword;
        c.type = k == "TCP_CHECK"   ? CheckType::Tcp
                 : k == "HTTP_GET"  ? CheckType::Http
                 : k == "SSL_GET"   ? CheckType::Https
                 : k == "UDP_CHECK" ? CheckType::Udp
                 : k == "DNS_CHECK"  ? CheckType::Dns
                 : k == "SMTP_CHECK" ? CheckType::Smtp
                 : k == "PING_CHECK" ? CheckType::Ping
                                     : CheckType::Script;
        Timing t;
        std::vector<const Node*> urls;
        std::vector<const Node*> hosts;  // SMTP_CHECK's host blocks (deprecated in keepalived, still read)
        bool sni = false;
        bool heloSet = false;
        std::optional<bool> logAll;
        for (const auto& n : s.children) {
            const std::string& kw = n.keyword;
            if (isTiming(kw)) {
                timing(n, t);
            } else if (connection(n, c)) {
                // (connect_ip ... fwmark: read)
            } else if (kw == "alpha") {
                if (flag(n) != vs.alpha) left(n, "alpha per check: directord sets it per virtual server");
            } else if (kw == "log_all_failures") {
                logAll = flag(n);
            } else if ((c.type == CheckType::Http || c.type == CheckType::Https) && kw == "fast_recovery") {
                note(n, "directord checks each url as a check of its own, every one at each interval, so a "
                        "recovering server is back after one round, as fast_recovery makes it in keepalived");
            } else if ((c.type == CheckType::Http || c.type == CheckType::Https) && kw == "url") {
                urls.push_back(&n);
            } else if ((c.type == CheckType::Http || c.type == CheckType::Https) && kw == "http_protocol") {
                if (need(n, 1)) c.httpVersion = n.args[0].text == "1.1" ? "1.1" : "1.0";
            } else if (c.type == CheckType::Https && kw == "enable_sni") {
                sni = true;
            } else if (c.type == CheckType::Script && kw == "misc_path") {
                std::string user;
                if (auto cmd = command(n, !n.args[0].quoted && n.args.size() > 1 ? false : true, &user))
                    c.command = *cmd;
                if (!user.empty()) c.user = user;
            } else if (c.type == CheckType::Script && kw == "misc_timeout") {
                c.timeout = wholeSecs(n);
            } else if (c.type == CheckType::Script && kw == "misc_dynamic") {
                c.dynamicWeight = true;
            } else if (c.type == CheckType::Script && kw == "user") {
                if (need(n, 1)) c.user = n.args[0].text;
                if (n.args.size() > 1) left(n, "group: directord uses the user's own group");
            } else if (c.type == CheckType::Udp && kw == "payload") {
                if (!need(n, 1)) continue;
                if (auto h = parseHex(joined(n), false)) c.payload = h->bytes;
                else left(n, "not a hex string: keepalived sends no payload either");
            } else if (c.type == CheckType::Udp && kw == "require_reply") {
                c.requireReply = true;
                if (n.args.empty()) continue;
                if (auto h = parseHex(joined(n), true)) {
                    c.reply = h->bytes;
                    c.replyMask = h->mask;
                } else {
                    left(n, "not a hex string: any reply is accepted, as keepalived does");
                }
            } else if (c.type == CheckType::Udp && (kw == "min_reply_length" || kw == "max_reply_length")) {
                if (auto v = integer(n, 0, 0, 65535))
                    (kw == "min_reply_length" ? c.minReplyLength : c.maxReplyLength) = static_cast<int>(*v);
            } else if (c.type == CheckType::Smtp && kw == "helo_name") {
                if (need(n, 1)) c.heloName = n.args[0].text;
                heloSet = true;
            } else if (c.type == CheckType::Smtp && kw == "host") {
                hosts.push_back(&n);
            } else if (c.type == CheckType::Dns && kw == "type") {
                if (!need(n, 1)) continue;
                std::string up = n.args[0].text;
                for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                static const char* kTypes[] = {"A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY"};
                if (std::find(std::begin(kTypes), std::end(kTypes), up) != std::end(kTypes)) c.queryType = up;
                else left(n, "unknown DNS type '" + n.args[0].text + "': SOA is asked, as keepalived does");
            } else if (c.type == CheckType::Dns && kw == "name") {
                if (!need(n, 1)) continue;
                const std::string& name = n.args[0].text;
                bool empty = name.size() > 1 && name[0] == '.';
                for (size_t i = 0; i + 1 < name.size(); ++i) empty |= name[i] == '.' && name[i + 1] == '.';
                if (empty) left(n, "'" + name + "' has an empty label: the root is asked, as keepalived does");
                else c.queryName = name == "." ? "" : name;
            } else {
                unsupported(n);
            }
        }
        // the checker's own value, else its real server's, else keepalived's default for this type
        // when it differs from what the virtual server gives
        auto pick = [](const auto& a, const auto& b) { return a ? a : b; };
        c.delayLoop = pick(t.delayLoop, rsT.delayLoop);
        c.connectTimeout = pick(t.connectTimeout, rsT.connectTimeout);
        c.retry = pick(t.retry, rsT.retry);
        c.delayBeforeRetry = pick(t.delayBeforeRetry, rsT.delayBeforeRetry);
        c.warmup = pick(t.warmup, rsT.warmup);
        const auto host = pick(t.virtualhost, rsT.virtualhost);
        if (host) c.virtualhost = *host;
        if ((c.type == CheckType::Http || c.type == CheckType::Https) && !c.delayBeforeRetry && !vsT.delayBeforeRetry)
            c.delayBeforeRetry = std::chrono::seconds(3);                     // keepalived's for HTTP_GET and SSL_GET
        if (!c.warmup && !vsT.warmup && c.delayLoop) c.warmup = c.delayLoop;  // keepalived: the check's delay_loop
        if (c.type == CheckType::Smtp && !heloSet) c.heloName = "smtpchecker.keepalived.org";  // keepalived's
        if (c.type == CheckType::Dns) {  // keepalived's DNS_CHECK: 3 retries, each after a delay_loop
            if (!c.retry && !vsT.retry) c.retry = 3;
            if (!c.delayBeforeRetry && !vsT.delayBeforeRetry) c.delayBeforeRetry = c.delayLoop.value_or(vs.delayLoop);
        }
        if (c.type == CheckType::Udp && !c.reply.empty() && c.minReplyLength > c.maxReplyLength)
            left(s, "min_reply_length > max_reply_length: every reply fails (keepalived warns the same); fix the lengths");
        if (c.type == CheckType::Udp && c.reply.empty()) {  // lengths count only with reply bytes (keepalived)
            c.minReplyLength = 0;
            c.maxReplyLength = 255;
        }
        if (c.type == CheckType::Script) {
            if (!c.retry && !vsT.retry) c.retry = 0;   // keepalived's for MISC_CHECK
            if (!c.timeout) c.timeout = vs.delayLoop;  // keepalived: the virtual server's delay_loop
        }
        if (c.type == CheckType::Https && !sni && !(c.virtualhost.empty() && vs.virtualhost.empty()))
            note(s, "directord sends the virtualhost as SNI (keepalived only with enable_sni)");
        c.logAllFailures = logAll.value_or(logAllFailures_);
        if (c.type == CheckType::Ping && (c.bindPort || !c.bindInterface.empty() || c.fwmark)) {
            left(s, "bind_port, bind_if and fwmark: directord's ping checks share one socket per family; "
                    "the ping goes out as routed");
            c.bindPort = 0;
            c.bindInterface.clear();
            c.fwmark = 0;
        }
        if (c.type == CheckType::Script && c.command.empty()) {
            left(s, "has no misc_path");
            return;
        }
        if (!hosts.empty()) {
            smtpHosts(s, hosts, std::move(c), t, rsT, rs);
            return;
        }
        if (c.type != CheckType::Http && c.type != CheckType::Https) {
            rs.checks.push_back(std::move(c));
            return;
        }
        if (urls.empty()) {
            left(s, "has no url: directord checks path / for 2xx");
            rs.checks.push_back(std::move(c));
            return;
        }
        for (const Node* u : urls) {  // keepalived: every url must pass; directord: one check each, all up
            CheckConfig one = c;
            one.where = Location{u->file, u->line};
            for (const auto& n : u->children) {
                if (n.keyword == "path") {
                    if (need(n, 1)) one.path = n.args[0].text;
                } else if (n.keyword == "digest") {
                    if (need(n, 1)) one.digest = n.args[0].text;
                } else if (n.keyword == "status_code") {
                    one.statusCodes.clear();
                    for (const auto& w : n.args) {
                        StatusRange r;
                        char* end = nullptr;
                        r.low = static_cast<int>(std::strtol(w.text.c_str(), &end, 10));
                        r.high = r.low;
                        if (*end == '-') r.high = static_cast<int>(std::strtol(end + 1, &end, 10));
                        if (*end || r.low < 100 || r.high > 599 || r.high < r.low)
                            left(n, "'" + w.text + "' is not a status code or range");
                        else one.statusCodes.push_back(r);
                    }
                    if (one.statusCodes.empty()) one.statusCodes = {StatusRange{}};
                } else if (n.keyword == "virtualhost") {
                    if (need(n, 1)) one.virtualhost = n.args[0].text;
                } else if (n.keyword == "regex") {
                    // keepalived reads this line with its escapes (\. is '.', \\. is '\.'), one word
                    const auto words = keepalived::escapedWords(n.source);
                    if (!words || words->size() != 2)
                        left(n, "keepalived reads one quoted regex here and ignores the line otherwise");
                    else one.regex = (*words)[1];
                } else if (n.keyword == "regex_no_match") {
                    one.regexNoMatch = true;
                } else if (n.keyword == "regex_options") {
                    const auto& known = base::Regex::optionNames();
                    for (const auto& w : n.args)  // keepalived skips a name it does not know
                        if (std::find(known.begin(), known.end(), w.text) != known.end()) one.regexOptions.push_back(w.text);
                        else note(n, "'" + w.text + "' is not a regex option: ignored, as keepalived does");
                } else if (n.keyword == "regex_min_offset" || n.keyword == "regex_max_offset") {
                    if (auto v = integer(n, 0, 0, 1 << 30))
                        (n.keyword == "regex_min_offset" ? one.regexMinOffset : one.regexMaxOffset.emplace()) = *v;
                } else if (n.keyword == "regex_stack") {
                    note(n, "directord's PCRE2 matching is not JIT-compiled and needs no stack of its own");
                } else {
                    unsupported(n);
                }
            }
            if (one.regex.empty() && (!one.regexOptions.empty() || one.regexMinOffset || one.regexMaxOffset)) {
                note(*u, "regex options without a regex: ignored, as keepalived does");
                one.regexOptions.clear();
                one.regexMinOffset = 0;
                one.regexMaxOffset.reset();
            }
            if (one.regexMaxOffset && one.regexMinOffset > *one.regexMaxOffset) {
                note(*u, "regex_min_offset > regex_max_offset: both ignored, as keepalived does");
                one.regexMinOffset = 0;
                one.regexMaxOffset.reset();
            }
            one.regexHeaders = !one.regex.empty();  // keepalived's subject: the response from its first byte
            if (!one.regex.empty()) {
                std::string why;
                if (!base::Regex::compile(one.regex, one.regexOptions, why)) {
                    left(*u, "regex '" + one.regex + "' " + why + ": keepalived refuses it too");
                    one.regex.clear();
                    one.regexOptions.clear();
                    one.regexHeaders = false;
                }
            }
            rs.checks.push_back(std::move(one));
        }
    }

    ImportResult& out_;
    Config cfg_;
    bool scriptUserSet_ = false;
    // keepalived's smtp_alert defaults (vrrp.c, check_data.c): an object without its own takes
    // smtp_alert_vrrp / smtp_alert_checker, else smtp_alert, else off (real servers: on)
    std::optional<bool> smtpAlert_, smtpAlertVrrp_, smtpAlertChecker_;
    bool vrrpMailDefault() const { return smtpAlertVrrp_.value_or(smtpAlert_.value_or(false)); }
    bool vsMailDefault() const { return smtpAlertChecker_.value_or(smtpAlert_.value_or(false)); }
    bool rsMailDefault() const { return smtpAlertChecker_.value_or(smtpAlert_.value_or(true)); }
    bool snmpSet_ = false;
    bool logAllFailures_ = false;  // checker_log_all_failures: every check's default
    // keepalived's vrrp_lower_prio_no_advert / vrrp_higher_prio_send_advert: every instance's
    // default (both off in keepalived; directord's own default sends on yielding)
    bool lowerPrioNoAdvert_ = false, higherPrioSendAdvert_ = false;
    bool strict_ = false;  // global_defs' vrrp_strict
    std::string defaultInterface_ = "eth0";  // keepalived's default_interface (DFLT_INT): static addresses'
    GarpConfig garp_;
    std::optional<Duration> garpInterval_, gnaInterval_;
    std::optional<int> version_;
    std::map<std::string, std::vector<GroupEntry>> groups_;
    // a vrrp_sync_group's own tracking (its track_* blocks) and whether it has
    // sync_group_tracking_weight: applied to its members once the whole file is read
    struct GroupTracking {
        VrrpInstance items;
        bool weighted = false;
        const Node* where = nullptr;
    };
    std::map<std::string, GroupTracking> groupTracking_;
    std::set<std::string> instances_;
    const Node* globalAt_ = nullptr;
    std::string mainFile_;
};

std::string header(const std::string& name, const ImportResult& r) {
    std::string out =
        "# imported from " + name + " by directord --import-keepalived (directord " DIRECTORD_VERSION ")\n";
    if (!r.left.empty())
        out += "# " + std::to_string(r.left.size()) +
               " keyword(s) were not carried over: each is listed below, and was reported as it was read\n";
    for (const auto& d : r.left) out += "#   not carried over: " + d.str() + "\n";
    for (const auto& d : r.notes) out += "#   note: " + d.str() + "\n";
    return out;
}

// Diagnostics in the order of the files' lines (a file in the order it first appears): the
// import reports some only once the whole file is read.
void inLineOrder(Diagnostics& ds) {
    std::vector<std::string> files;
    auto fileIndex = [&](const std::string& f) {
        auto it = std::find(files.begin(), files.end(), f);
        if (it != files.end()) return static_cast<size_t>(it - files.begin());
        files.push_back(f);
        return files.size() - 1;
    };
    for (const auto& d : ds) fileIndex(d.file);
    std::stable_sort(ds.begin(), ds.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        return std::pair(fileIndex(a.file), a.line) < std::pair(fileIndex(b.file), b.line);
    });
}

ImportResult finish(keepalived::ParseResult parsed, const std::string& name, const std::string& dir) {
    ImportResult r;
    r.readable = parsed.readable;
    r.left = std::move(parsed.problems);
    if (!r.readable) return r;
    Importer imp(r);
    Config cfg = imp.run(parsed.nodes);
    if (definesNothing(cfg))
        r.left.push_back({name, 1, "", "no vrrp_instance, virtual_server, static_ipaddress, static_routes or static_rules: nothing to import (an empty or "
                                       "cut-short file?)"});
    inLineOrder(r.left);
    inLineOrder(r.notes);
    cfg.file = name;
    const std::string body = dumpMinimal(cfg);
    r.text = header(name, r) + body;
    LoadResult check = loadString(r.text, name + " (imported)", dir);
    r.loadErrors = std::move(check.diagnostics);
    return r;
}

}  // namespace

std::string keepalivedConfigId() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "";
    const std::string h = host;
    return h.substr(0, h.find('.'));  // keepalived's: the node name up to its first dot
}

ImportResult importKeepalived(const std::string& path, const std::string& configId) {
    const auto slash = path.rfind('/');
    return finish(keepalived::parseFile(path, configId), path,
                  slash == std::string::npos ? "." : path.substr(0, slash));
}

ImportResult importKeepalivedString(const std::string& text, const std::string& name, const std::string& configId) {
    return finish(keepalived::parseString(text, name, ".", configId), name, ".");
}

}  // namespace conf
