#include "kmod/ipvsadm/Ipvsadm.h"

#include <arpa/inet.h>

#include <cstdio>
#include <sstream>

namespace kmod {

namespace {

bool isNumber(const std::string& s) {
    return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// "addr:port", "[v6]:port", or the address alone (port 0).
bool parseAddrPort(const std::string& text, base::IpAddress& addr, std::uint16_t& port, bool& hasPort) {
    std::string host = text, p;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) return false;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return false;
            p = text.substr(close + 2);
        }
    } else if (const auto colon = text.find(':');
               colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
        host = text.substr(0, colon);
        p = text.substr(colon + 1);
    }
    const auto a = base::IpAddress::parse(host);
    if (!a) return false;
    addr = *a;
    hasPort = !p.empty();
    if (hasPort) {
        if (!isNumber(p) || std::stoul(p) > 65535) return false;
        port = static_cast<std::uint16_t>(std::stoul(p));
    }
    return true;
}

std::string errorText(Op::Kind k, int e) {
    switch (k) {
    case Op::Kind::AddService:
        if (e == EEXIST) return "Service already exists";
        if (e == ENOENT) return "Scheduler or persistence engine not found";
        break;
    case Op::Kind::EditService:
        if (e == ESRCH) return "No such service";
        if (e == ENOENT) return "Scheduler or persistence engine not found";
        break;
    case Op::Kind::DelService:
        if (e == ESRCH) return "No such service";
        break;
    case Op::Kind::AddDest:
        if (e == ESRCH) return "Service not defined";
        if (e == EEXIST) return "Destination already exists";
        break;
    case Op::Kind::EditDest:
    case Op::Kind::DelDest:
        if (e == ESRCH) return "Service not defined";
        if (e == ENOENT) return "No such destination";
        break;
    }
    switch (e) {
    case EPERM: return "Permission denied (you must be root)";
    case EINVAL: return "Invalid operation.  Possibly wrong module version, address not unicast, ...";
    case ENOPROTOOPT: return "Protocol not available";
    case ENOMEM: return "Memory allocation problem";
    case EOPNOTSUPP: return "Operation not supported with IPv6";
    case EAFNOSUPPORT: return "Operation not supported with specified address family";
    case EMSGSIZE: return "Module is wrong version";
    default: return std::generic_category().message(e);
    }
}

std::optional<Op> opOf(const IpvsadmCommand& c) {
    switch (c.kind) {
    case IpvsadmCommand::Kind::AddService: return Op{Op::Kind::AddService, c.service, {}};
    case IpvsadmCommand::Kind::EditService: return Op{Op::Kind::EditService, c.service, {}};
    case IpvsadmCommand::Kind::DelService: return Op{Op::Kind::DelService, c.service, {}};
    case IpvsadmCommand::Kind::AddDest: return Op{Op::Kind::AddDest, c.service, c.dest};
    case IpvsadmCommand::Kind::EditDest: return Op{Op::Kind::EditDest, c.service, c.dest};
    case IpvsadmCommand::Kind::DelDest: return Op{Op::Kind::DelDest, c.service, c.dest};
    default: return std::nullopt;
    }
}

std::string daemonLine(const SyncDaemon& d) {
    const std::string group = d.group ? d.group->str() : "224.0.0.81";
    return std::string(d.state == SyncDaemon::kMaster ? "master" : "backup") + " sync daemon (mcast=" + d.interface +
           ", syncid=" + std::to_string(d.syncId) + ", maxlen=" + std::to_string(d.maxLen) + ", group=" + group +
           ", port=" + std::to_string(d.port) + ", ttl=" + std::to_string(d.ttl) + ")\n";
}

TableOrder tableOrder(const IpvsTable& table) {
    TableOrder o;
    for (const auto& [k, dests] : table.lastDumpOrder()) {
        o.services.push_back(k);
        o.dests[k] = dests;
    }
    return o;
}

}  // namespace

std::vector<std::string> splitArgs(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

std::string ipvsadmUsage(const char* program) {
    std::string p = program;
    return "ipvsctl " DIRECTORD_VERSION
           " (ipvsadm 1.31 compatible)\n"
           "Usage:\n"
           "  " +
           p +
           " -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
           "  " +
           p +
           " -D virtual-service\n"
           "  " +
           p +
           " -C\n"
           "  " +
           p +
           " -R\n"
           "  " +
           p +
           " -S [-n]\n"
           "  " +
           p +
           " -a|e virtual-service -r server-address [options]\n"
           "  " +
           p +
           " -d virtual-service -r server-address\n"
           "  " +
           p +
           " -L|l [virtual-service] [options]\n"
           "  " +
           p +
           " -Z [virtual-service]\n"
           "  " +
           p +
           " --set tcp tcpfin udp\n"
           "  " +
           p +
           " --start-daemon {master|backup} [daemon-options]\n"
           "  " +
           p +
           " --stop-daemon {master|backup}\n"
           "  " +
           p +
           " -h\n\n"
           "Both the kernel's IPVS and directord's userspace plane (over $DIRECTORD_SOCKET, default\n"
           "/run/directord.sock, when the kernel has no IPVS) take the same commands.\n";
}

std::optional<IpvsadmCommand> parseIpvsadm(const std::vector<std::string>& rawArgs, std::string& error) {
    // getopt's clusters: -Ln is -L -n; -w5 is -w 5
    static const std::string withArg = "tufsMbrwxyp";
    std::vector<std::string> args;
    for (const auto& a : rawArgs) {
        if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
            if (withArg.find(a[1]) != std::string::npos) {
                args.push_back(a.substr(0, 2));
                args.push_back(a.substr(2));
            } else {
                for (size_t i = 1; i < a.size(); ++i) args.push_back(std::string("-") + a[i]);
            }
        } else {
            args.push_back(a);
        }
    }
    IpvsadmCommand c;
    std::optional<IpvsadmCommand::Kind> kind;
    bool v6 = false, hasDest = false, destHasPort = false, hasNetmask = false, hasFwd = false;
    std::uint32_t netmask = 0;
    std::string netmaskText;
    auto setKind = [&](IpvsadmCommand::Kind k) {
        if (kind && *kind != k) {
            error = "You may only specify one command at a time";
            return false;
        }
        kind = k;
        return true;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&](std::string& v) {
            if (i + 1 >= args.size()) {
                error = "Option " + a + " requires an argument";
                return false;
            }
            v = args[++i];
            return true;
        };
        std::string v;
        using K = IpvsadmCommand::Kind;
        if (a == "-A" || a == "--add-service") {
            if (!setKind(K::AddService)) return std::nullopt;
        } else if (a == "-E" || a == "--edit-service") {
            if (!setKind(K::EditService)) return std::nullopt;
        } else if (a == "-D" || a == "--delete-service") {
            if (!setKind(K::DelService)) return std::nullopt;
        } else if (a == "-C" || a == "--clear") {
            if (!setKind(K::Clear)) return std::nullopt;
        } else if (a == "-R" || a == "--restore") {
            if (!setKind(K::Restore)) return std::nullopt;
        } else if (a == "-S" || a == "--save") {
            if (!setKind(K::Save)) return std::nullopt;
        } else if (a == "-a" || a == "--add-server") {
            if (!setKind(K::AddDest)) return std::nullopt;
        } else if (a == "-e" || a == "--edit-server") {
            if (!setKind(K::EditDest)) return std::nullopt;
        } else if (a == "-d" || a == "--delete-server") {
            if (!setKind(K::DelDest)) return std::nullopt;
        } else if (a == "-L" || a == "-l" || a == "--list") {
            if (!setKind(K::List)) return std::nullopt;
        } else if (a == "-Z" || a == "--zero") {
            if (!setKind(K::Zero)) return std::nullopt;
        } else if (a == "-h" || a == "--help") {
            if (!setKind(K::Help)) return std::nullopt;
        } else if (a == "-v" || a == "--version") {
            if (!setKind(K::Version)) return std::nullopt;
        } else if (a == "--set") {
            if (!setKind(K::SetTimeouts)) return std::nullopt;
            std::string t[3];
            for (auto& x : t)
                if (!next(x)) return std::nullopt;
            for (const auto& x : t)
                if (!isNumber(x)) {
                    error = "illegal timeout value specified";
                    return std::nullopt;
                }
            c.timeouts =
                Timeouts{static_cast<std::uint32_t>(std::stoul(t[0])), static_cast<std::uint32_t>(std::stoul(t[1])),
                         static_cast<std::uint32_t>(std::stoul(t[2]))};
        } else if (a == "--start-daemon" || a == "--stop-daemon") {
            if (!setKind(a == "--start-daemon" ? K::StartDaemon : K::StopDaemon) || !next(v)) return std::nullopt;
            if (v != "master" && v != "backup") {
                error = "illegal start-daemon parameter specified";
                return std::nullopt;
            }
            c.daemon.state = v == "master" ? SyncDaemon::kMaster : SyncDaemon::kBackup;
        } else if (a == "-t" || a == "--tcp-service" || a == "-u" || a == "--udp-service" || a == "--sctp-service") {
            if (!next(v)) return std::nullopt;
            base::IpAddress addr;
            std::uint16_t port = 0;
            bool hasPort = false;
            if (!parseAddrPort(v, addr, port, hasPort)) {
                error = "illegal virtual server address[:port] specified";
                return std::nullopt;
            }
            const std::uint16_t proto = (a == "-t" || a == "--tcp-service")   ? kTcp
                                        : (a == "-u" || a == "--udp-service") ? kUdp
                                                                              : kSctp;
            c.service.key = ServiceKey::inet(addr, proto, port);
            c.hasService = true;
        } else if (a == "-f" || a == "--fwmark-service") {
            if (!next(v)) return std::nullopt;
            if (!isNumber(v) || std::stoul(v) == 0) {
                error = "illegal virtual server fwmark specified";
                return std::nullopt;
            }
            c.service.key = ServiceKey::mark(base::Family::V4, static_cast<std::uint32_t>(std::stoul(v)));
            c.hasService = true;
        } else if (a == "-6" || a == "--ipv6") {
            v6 = true;
        } else if (a == "-s" || a == "--scheduler") {
            if (!next(c.service.scheduler)) return std::nullopt;
        } else if (a == "-p" || a == "--persistent") {
            c.service.flags |= kSvcPersistent;
            c.service.timeout = 300;
            if (i + 1 < args.size() && isNumber(args[i + 1]))
                c.service.timeout = static_cast<std::uint32_t>(std::stoul(args[++i]));
        } else if (a == "-M" || a == "--netmask") {
            if (!next(netmaskText)) return std::nullopt;
            hasNetmask = true;
        } else if (a == "--pe") {
            if (!next(c.service.peName)) return std::nullopt;
        } else if (a == "-b" || a == "--sched-flags") {
            if (!next(v)) return std::nullopt;
            std::istringstream in(v);
            std::string f;
            while (std::getline(in, f, ',')) {
                if (f == "flag-1" || f == "sh-fallback" || f == "mh-fallback") c.service.flags |= kSvcSched1;
                else if (f == "flag-2" || f == "sh-port" || f == "mh-port") c.service.flags |= kSvcSched2;
                else if (f == "flag-3") c.service.flags |= kSvcSched3;
                else {
                    error = "invalid scheduler flag '" + f + "'";
                    return std::nullopt;
                }
            }
        } else if (a == "-o" || a == "--ops") {
            c.service.flags |= kSvcOnePacket;
        } else if (a == "-r" || a == "--real-server") {
            if (!next(v)) return std::nullopt;
            if (!parseAddrPort(v, c.dest.key.address, c.dest.key.port, destHasPort)) {
                error = "illegal real server address[:port] specified";
                return std::nullopt;
            }
            hasDest = true;
        } else if (a == "-g" || a == "--gatewaying") {
            c.dest.forwarding = Forwarding::Route;
            hasFwd = true;
        } else if (a == "-i" || a == "--ipip") {
            c.dest.forwarding = Forwarding::Tunnel;
            hasFwd = true;
        } else if (a == "-m" || a == "--masquerading") {
            c.dest.forwarding = Forwarding::Masq;
            hasFwd = true;
        } else if (a == "--tun-type") {
            if (!next(v)) return std::nullopt;
            if (v == "ipip") c.dest.tunnelType = TunnelType::Ipip;
            else if (v == "gue") c.dest.tunnelType = TunnelType::Gue;
            else if (v == "gre") c.dest.tunnelType = TunnelType::Gre;
            else {
                error = "illegal tunnel type specified";
                return std::nullopt;
            }
        } else if (a == "--tun-port") {
            if (!next(v)) return std::nullopt;
            if (!isNumber(v) || std::stoul(v) > 65535) {
                error = "illegal tunnel port specified";
                return std::nullopt;
            }
            c.dest.tunnelPort = static_cast<std::uint16_t>(std::stoul(v));
        } else if (a == "--tun-nocsum") {
            c.dest.tunnelFlags = TunnelChecksum::NoCsum;
        } else if (a == "--tun-csum") {
            c.dest.tunnelFlags = TunnelChecksum::Csum;
        } else if (a == "--tun-remcsum") {
            c.dest.tunnelFlags = TunnelChecksum::RemCsum;
        } else if (a == "-w" || a == "--weight" || a == "-x" || a == "--u-threshold" || a == "-y" ||
                   a == "--l-threshold") {
            if (!next(v)) return std::nullopt;
            const bool weight = a == "-w" || a == "--weight";
            if (!isNumber(v) || std::stoul(v) > (weight ? 65535u : 2147483647u)) {
                error = weight                                ? "illegal weight specified"
                        : (a == "-x" || a == "--u-threshold") ? "illegal u_threshold specified"
                                                              : "illegal l_threshold specified";
                return std::nullopt;
            }
            const auto n = static_cast<std::uint32_t>(std::stoul(v));
            if (weight) c.dest.weight = n;
            else if (a == "-x" || a == "--u-threshold") c.dest.upperThreshold = n;
            else c.dest.lowerThreshold = n;
        } else if (a == "-n" || a == "--numeric") {
        } else if (a == "-c" || a == "--connection") {
            c.connections = true;
        } else if (a == "--timeout") {
            c.showTimeouts = true;
        } else if (a == "--daemon") {
            c.showDaemons = true;
        } else if (a == "--stats") {
            c.list.format = ListFormat::Stats;
        } else if (a == "--rate") {
            c.list.format = ListFormat::Rate;
        } else if (a == "--thresholds") {
            c.list.format = ListFormat::Thresholds;
        } else if (a == "--persistent-conn") {
            c.list.format = ListFormat::PersistentConn;
        } else if (a == "--tun-info") {
            c.list.format = ListFormat::TunInfo;
        } else if (a == "--exact") {
            c.list.exact = true;
        } else if (a == "--nosort") {
            c.nosort = true;
        } else if (a == "--sort") {
            c.nosort = false;
        } else if (a == "--syncid") {
            if (!next(v) || !isNumber(v) || std::stoul(v) > 255) {
                error = "illegal syncid specified";
                return std::nullopt;
            }
            c.daemon.syncId = static_cast<std::uint32_t>(std::stoul(v));
        } else if (a == "--sync-maxlen") {
            if (!next(v) || !isNumber(v) || std::stoul(v) > 65535) {
                error = "illegal sync-maxlen specified";
                return std::nullopt;
            }
            c.daemon.maxLen = static_cast<std::uint16_t>(std::stoul(v));
        } else if (a == "--mcast-interface") {
            if (!next(c.daemon.interface)) return std::nullopt;
        } else if (a == "--mcast-group") {
            if (!next(v)) return std::nullopt;
            const auto g = base::IpAddress::parse(v);
            if (!g) {
                error = "illegal mcast-group specified";
                return std::nullopt;
            }
            c.daemon.group = *g;
        } else if (a == "--mcast-port") {
            if (!next(v) || !isNumber(v) || std::stoul(v) > 65535) {
                error = "illegal mcast-port specified";
                return std::nullopt;
            }
            c.daemon.port = static_cast<std::uint16_t>(std::stoul(v));
        } else if (a == "--mcast-ttl") {
            if (!next(v) || !isNumber(v) || std::stoul(v) < 1 || std::stoul(v) > 255) {
                error = "illegal mcast-ttl specified";
                return std::nullopt;
            }
            c.daemon.ttl = static_cast<std::uint8_t>(std::stoul(v));
        } else {
            error = "unrecognized option '" + a + "'";
            return std::nullopt;
        }
    }
    if (!kind) {
        error = "no command specified";
        return std::nullopt;
    }
    c.kind = *kind;
    using K = IpvsadmCommand::Kind;
    if (c.nosort && c.kind != K::List) {  // ipvsadm's option/command table
        error = c.kind == K::Save ? "Illegal 'nosort' option with the 'save' command"
                                  : "Illegal 'nosort' option with this command";
        return std::nullopt;
    }
    if (c.service.key.isFwmark() && v6) c.service.key = ServiceKey::mark(base::Family::V6, c.service.key.fwmark);
    const bool serviceV6 = c.service.key.family() == base::Family::V6;
    if (hasNetmask) {
        if (serviceV6) {
            if (!isNumber(netmaskText) || std::stoul(netmaskText) < 1 || std::stoul(netmaskText) > 128) {
                error = "illegal virtual server netmask specified";
                return std::nullopt;
            }
            netmask = static_cast<std::uint32_t>(std::stoul(netmaskText));
        } else {
            in_addr m{};
            if (inet_pton(AF_INET, netmaskText.c_str(), &m) != 1) {
                error = "illegal virtual server netmask specified";
                return std::nullopt;
            }
            netmask = ntohl(m.s_addr);
        }
        c.service.netmask = netmask;
    } else if (serviceV6) {
        c.service.netmask = 128;
    }
    const bool needsService = c.kind == K::AddService || c.kind == K::EditService || c.kind == K::DelService ||
                              c.kind == K::AddDest || c.kind == K::EditDest || c.kind == K::DelDest;
    if (needsService && !c.hasService) {
        error = "You need to supply the 'virtual-service' option for this command";
        return std::nullopt;
    }
    const bool needsDest = c.kind == K::AddDest || c.kind == K::EditDest || c.kind == K::DelDest;
    if (needsDest && !hasDest) {
        error = "You need to supply the 'real-server' option for this command";
        return std::nullopt;
    }
    if (needsDest) {
        if (!hasFwd) c.dest.forwarding = Forwarding::Route;  // ipvsadm's default: direct routing
        if (!destHasPort) c.dest.key.port = c.service.key.port;
        // adding or editing with direct routing or tunnelling: the service's port (fwmark services: any)
        if (c.kind != K::DelDest && !c.service.key.isFwmark() &&
            (c.dest.forwarding == Forwarding::Route || c.dest.forwarding == Forwarding::Tunnel))
            c.dest.key.port = c.service.key.port;
    }
    if (c.kind == K::List && c.hasService) c.list.only = c.service.key;
    if (c.kind == K::StartDaemon && c.daemon.interface.empty()) {
        error = "You need to supply the 'mcast-interface' option for this command";
        return std::nullopt;
    }
    return c;
}

IpvsadmResult runIpvsadm(const IpvsadmCommand& c, IpvsTable& table, std::istream* restoreInput) {
    SyncDaemonControl* const daemons = table.syncDaemons();
    IpvsadmResult r;
    using K = IpvsadmCommand::Kind;
    auto fail = [&](const std::string& message, int status = 255) {
        r.err += message + "\n";
        r.status = status;
        return r;
    };
    if (auto op = opOf(c)) {
        const auto res = table.apply({*op});
        if (res.firstFailure) return fail(errorText(op->kind, res.firstFailure->error.value()));
        return r;
    }
    switch (c.kind) {
    case K::Help: r.out = ipvsadmUsage("ipvsctl"); return r;
    case K::Version: r.out = "ipvsctl " DIRECTORD_VERSION " (ipvsadm v1.31 compatible)\n"; return r;
    case K::Clear:
        if (auto ec = table.flush()) return fail(errorText(Op::Kind::DelService, ec.value()));
        return r;
    case K::SetTimeouts:
        if (auto ec = table.setTimeouts(c.timeouts)) return fail(errorText(Op::Kind::EditService, ec.value()));
        return r;
    case K::Zero: {
        const std::optional<ServiceKey> only = c.hasService ? std::optional<ServiceKey>(c.service.key) : std::nullopt;
        if (auto ec = table.zero(only))
            return fail(ec.value() == ESRCH ? "No such service" : errorText(Op::Kind::DelService, ec.value()));
        return r;
    }
    case K::StartDaemon:
    case K::StopDaemon: {
        if (!daemons)
            return fail(
                "the sync daemon needs the kernel's IPVS (directord's sync settings drive it on the userspace plane)");
        const auto ec = c.kind == K::StartDaemon ? daemons->startDaemon(c.daemon) : daemons->stopDaemon(c.daemon.state);
        if (ec && ec.value() == EEXIST) return fail("Daemon has already run");
        if (ec && ec.value() == ESRCH) return fail("No daemon is running");
        if (ec) return fail(errorText(Op::Kind::AddService, ec.value()));
        return r;
    }
    case K::Save: {
        const auto dump = table.dump();
        if (!dump) return fail(errorText(Op::Kind::AddService, dump.error().value()), 1);
        const TableOrder order = tableOrder(table);
        r.out = formatSave(*dump, c.nosort ? &order : nullptr);
        return r;
    }
    case K::List: {
        if (c.showTimeouts) {
            const auto t = table.timeouts();
            if (!t) return fail(errorText(Op::Kind::AddService, t.error().value()), 1);
            r.out = formatTimeouts(*t);
            return r;
        }
        if (c.showDaemons) {
            if (!daemons) return r;  // no sync daemon on this plane: nothing to list
            const auto ds = daemons->daemons();
            if (!ds) return fail(errorText(Op::Kind::AddService, ds.error().value()), 1);
            for (const auto& d : *ds) r.out += daemonLine(d);
            return r;
        }
        if (c.connections) {
            const auto conns = table.connections();
            if (!conns) return fail("cannot open file /proc/net/ip_vs_conn", 1);
            r.out = formatConnections(*conns, c.list.format == ListFormat::PersistentConn);
            return r;
        }
        ListOptions o = c.list;
        if (const auto info = table.info()) o.connTableSize = info->connTableSize;
        const auto dump = table.dump();
        if (!dump) return fail(errorText(Op::Kind::AddService, dump.error().value()), 1);
        if (o.only && !dump->services.contains(*o.only)) return fail("No such service", 1);
        const TableOrder order = tableOrder(table);
        if (c.nosort) o.order = &order;
        const auto status = table.status();
        r.out = formatList(*dump, status ? *status : TableStatus{}, o);
        return r;
    }
    case K::Restore: {
        if (!restoreInput) return fail("-R reads the rules from standard input");
        std::vector<Op> batch;
        std::vector<size_t> lines;
        size_t lineNo = 0;
        auto flushBatch = [&] {
            if (batch.empty()) return;
            const auto res = table.apply(batch);
            if (res.failed) {
                r.status = 255;
                r.err += errorText(res.firstFailure->op.kind, res.firstFailure->error.value()) + " (line " +
                         std::to_string(lines[res.firstFailure->index]) + ")\n";
                if (res.failed > 1) r.err += std::to_string(res.failed - 1) + " more line(s) failed\n";
            }
            batch.clear();
            lines.clear();
        };
        std::string line;
        while (std::getline(*restoreInput, line)) {
            ++lineNo;
            auto args = splitArgs(line);
            if (args.empty() || args[0][0] == '#') continue;
            std::string error;
            auto cmd = parseIpvsadm(args, error);
            if (!cmd) {
                flushBatch();
                r.err += error + " (line " + std::to_string(lineNo) + ")\n";
                r.status = 255;
                continue;
            }
            if (auto op = opOf(*cmd)) {
                batch.push_back(*op);
                lines.push_back(lineNo);
                continue;
            }
            if (cmd->kind == K::Restore) continue;
            flushBatch();
            auto sub = runIpvsadm(*cmd, table, nullptr);
            r.out += sub.out;
            r.err += sub.err;
            if (sub.status) r.status = sub.status;
        }
        flushBatch();
        return r;
    }
    default: return r;
    }
}

}  // namespace kmod
