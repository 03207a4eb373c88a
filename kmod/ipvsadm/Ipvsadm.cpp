#include "kmod/ipvsadm/Ipvsadm.h"

#include <arpa/inet.h>

#include <cstdio>
#include <sstream>

namespace kmod::ipvsadm {

namespace {

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

}  // namespace kmod::ipvsadm
