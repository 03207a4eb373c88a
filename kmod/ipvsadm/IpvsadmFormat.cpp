#include "kmod/ipvsadm/IpvsadmFormat.h"

#include <sstream>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <vector>

namespace kmod::ipvsadm {
namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

// ipvsadm compares with int arithmetic on unsigned values: keep its wrap-around.
int cmpAddr(const base::IpAddress& a, const base::IpAddress& b) {
    if (a.family() != b.family()) return a.isV4() ? -1 : 1;
    const auto& x = a.bytes();
    const auto& y = b.bytes();
    const int words = a.isV4() ? 1 : 4;
    for (int i = 0; i < words; ++i) {
        auto word = [](const std::array<std::uint8_t, 16>& v, int w) {
            return (std::uint32_t{v[static_cast<size_t>(w * 4)]} << 24) |
                   (std::uint32_t{v[static_cast<size_t>(w * 4 + 1)]} << 16) |
                   (std::uint32_t{v[static_cast<size_t>(w * 4 + 2)]} << 8) |
                   std::uint32_t{v[static_cast<size_t>(w * 4 + 3)]};
        };
        const int r = static_cast<int>(word(x, i) - word(y, i));
        if (r != 0) return r;
    }
    return 0;
}

std::string hostPort(const base::IpAddress& a, std::uint16_t port) {
    return a.isV4() ? a.str() + ":" + std::to_string(port) : "[" + a.str() + "]:" + std::to_string(port);
}

std::string serviceName(const ServiceKey& k) {
    if (k.isFwmark()) return fmt(k.family() == base::Family::V6 ? "FWM  %u IPv6" : "FWM  %u", k.fwmark);
    return fmt("%-4s %s", protocolName(k.protocol), hostPort(k.address, k.port).c_str());
}

// print_largenum()
std::string largeNum(std::uint64_t i, bool exact) {
    if (exact) {
        const std::string s = std::to_string(i);
        return fmt("%*llu", s.size() <= 8 ? 9 : static_cast<int>(s.size()) + 1, static_cast<unsigned long long>(i));
    }
    if (i < 100000000ULL) return fmt("%9llu", static_cast<unsigned long long>(i));
    if (i < 1000000000ULL) return fmt("%8lluK", static_cast<unsigned long long>(i / 1000));
    if (i < 100000000000ULL) return fmt("%8lluM", static_cast<unsigned long long>(i / 1000000));
    if (i < 100000000000000ULL) return fmt("%8lluG", static_cast<unsigned long long>(i / 1000000000ULL));
    return fmt("%8lluT", static_cast<unsigned long long>(i / 1000000000000ULL));
}

std::string schedFlags(const Service& s) {
    std::vector<std::string> f;
    const bool sh = s.scheduler == "sh", mh = s.scheduler == "mh";
    if (sh || mh) {
        if (s.flags & kSvcSched1) f.push_back(s.scheduler + "-fallback");
        if (s.flags & kSvcSched2) f.push_back(s.scheduler + "-port");
    } else {
        if (s.flags & kSvcSched1) f.push_back("flag-1");
        if (s.flags & kSvcSched2) f.push_back("flag-2");
    }
    if (s.flags & kSvcSched3) f.push_back("flag-3");
    std::string out;
    for (const auto& x : f) out += (out.empty() ? "" : ",") + x;
    return out;
}

std::string netmaskText(const Service& s) {
    if (s.key.family() == base::Family::V6) return std::to_string(s.netmask);
    return base::IpAddress::v4(s.netmask).str();
}

std::string serviceLine(const Service& s) {
    std::string line = serviceName(s.key) + " " + s.scheduler;
    const std::string flags = schedFlags(s);
    if (!flags.empty()) line += " (" + flags + ")";
    if (s.flags & kSvcPersistent) {
        line += " persistent " + std::to_string(s.timeout);
        const std::uint32_t full = s.key.family() == base::Family::V6 ? 128 : 0xffffffffu;
        if (s.netmask != full) line += " mask " + netmaskText(s);
        if (!s.peName.empty()) line += " pe " + s.peName;
    }
    if (s.flags & kSvcOnePacket) line += " ops";
    return line;
}

std::string tunInfo(const Dest& d) {
    if (d.forwarding != Forwarding::Tunnel) return "n/a";
    switch (d.tunnelType) {
    case TunnelType::Ipip: return "ipip";
    case TunnelType::Gue:
    case TunnelType::Gre: {
        std::string s = d.tunnelType == TunnelType::Gue ? "gue:" + std::to_string(d.tunnelPort) : "gre";
        s += d.tunnelFlags == TunnelChecksum::Csum ? ":+c" : d.tunnelFlags == TunnelChecksum::RemCsum ? ":+r" : ":-c";
        return s;
    }
    }
    return "n/a";
}

std::string header(const ListOptions& o) {
    switch (o.format) {
    case ListFormat::Stats:
        return fmt("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Conns", "InPkts",
                   "OutPkts", "InBytes", "OutBytes");
    case ListFormat::Rate:
        return fmt("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "CPS", "InPPS",
                   "OutPPS", "InBPS", "OutBPS");
    case ListFormat::Thresholds:
        return fmt("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Uthreshold",
                   "Lthreshold", "ActiveConn", "InActConn");
    case ListFormat::PersistentConn:
        return fmt("%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Weight",
                   "PersistConn", "ActiveConn", "InActConn");
    case ListFormat::TunInfo:
        return "Prot LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
    case ListFormat::Plain: break;
    }
    return "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

std::string fiveNumbers(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e,
                        bool exact) {
    return largeNum(a, exact) + largeNum(b, exact) + largeNum(c, exact) + largeNum(d, exact) + largeNum(e, exact);
}

// ipvsadm's sorted order, or the table's own (--nosort).
std::vector<const Dest*> orderedDests(const ServiceEntry& e, const TableOrder* order) {
    std::vector<const Dest*> dests;
    auto it = order ? order->dests.find(e.service.key) : std::map<ServiceKey, std::vector<DestKey>>::const_iterator{};
    if (order && it != order->dests.end()) {
        for (const auto& k : it->second)
            if (auto d = e.dests.find(k); d != e.dests.end()) dests.push_back(&d->second);
        return dests;
    }
    for (const auto& [k, d] : e.dests) dests.push_back(&d);
    std::sort(dests.begin(), dests.end(), [](const Dest* a, const Dest* b) { return ipvsadmDestLess(a->key, b->key); });
    return dests;
}

std::vector<const ServiceEntry*> orderedServices(const TableState& table, const TableOrder* order) {
    std::vector<const ServiceEntry*> services;
    if (order) {
        for (const auto& k : order->services)
            if (auto e = table.services.find(k); e != table.services.end()) services.push_back(&e->second);
        return services;
    }
    for (const auto& [k, e] : table.services) services.push_back(&e);
    std::sort(services.begin(), services.end(), [](const ServiceEntry* a, const ServiceEntry* b) {
        return ipvsadmServiceLess(a->service.key, b->service.key);
    });
    return services;
}

std::string serviceBlock(const ServiceEntry& e, const ServiceStatus* st, const ListOptions& o) {
    static const DestStatus kNone{};
    static const ServiceStatus kNoService{};
    const ServiceStatus& ss = st ? *st : kNoService;
    std::string out;
    if (o.format == ListFormat::Stats)
        out += fmt("%-33s", serviceName(e.service.key).c_str()) +
               fiveNumbers(ss.stats.conns, ss.stats.inpkts, ss.stats.outpkts, ss.stats.inbytes, ss.stats.outbytes,
                           o.exact) +
               "\n";
    else if (o.format == ListFormat::Rate)
        out += fmt("%-33s", serviceName(e.service.key).c_str()) +
               fiveNumbers(ss.rates.cps, ss.rates.inpps, ss.rates.outpps, ss.rates.inbps, ss.rates.outbps, o.exact) +
               "\n";
    else out += serviceLine(e.service) + "\n";
    for (const Dest* d : orderedDests(e, o.order)) {
        auto it = ss.dests.find(d->key);
        const DestStatus& ds = it == ss.dests.end() ? kNone : it->second;
        const std::string name = hostPort(d->key.address, d->key.port);
        switch (o.format) {
        case ListFormat::Stats:
            out += fmt("  -> %-28s", name.c_str()) +
                   fiveNumbers(ds.stats.conns, ds.stats.inpkts, ds.stats.outpkts, ds.stats.inbytes, ds.stats.outbytes,
                               o.exact) +
                   "\n";
            break;
        case ListFormat::Rate:
            out +=
                fmt("  -> %-28s", name.c_str()) +
                fiveNumbers(ds.rates.cps, ds.rates.inpps, ds.rates.outpps, ds.rates.inbps, ds.rates.outbps, o.exact) +
                "\n";
            break;
        case ListFormat::Thresholds:
            out += fmt("  -> %-28s %-10u %-10u %-10u %-10u\n", name.c_str(), d->upperThreshold, d->lowerThreshold,
                       ds.activeConns, ds.inactConns);
            break;
        case ListFormat::PersistentConn:
            out += fmt("  -> %-28s %-9u %-11u %-10u %-10u\n", name.c_str(), d->weight, ds.persistConns, ds.activeConns,
                       ds.inactConns);
            break;
        case ListFormat::TunInfo:
            out += fmt("  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", name.c_str(), forwardingName(d->forwarding),
                       tunInfo(*d).c_str(), static_cast<int>(d->weight), ds.activeConns, ds.inactConns);
            break;
        case ListFormat::Plain:
            out += fmt("  -> %-28s %-7s %-6d %-10u %-10u\n", name.c_str(), forwardingName(d->forwarding),
                       static_cast<int>(d->weight), ds.activeConns, ds.inactConns);
            break;
        }
    }
    return out;
}

}  // namespace

bool ipvsadmServiceLess(const ServiceKey& a, const ServiceKey& b) {
    int r = static_cast<int>(a.fwmark - b.fwmark);
    if (r == 0) r = (a.family() == b.family()) ? 0 : (a.family() == base::Family::V4 ? -1 : 1);
    if (r == 0) r = static_cast<int>(a.protocol) - static_cast<int>(b.protocol);
    if (r == 0) r = cmpAddr(a.address, b.address);
    if (r == 0) r = static_cast<int>(a.port) - static_cast<int>(b.port);
    return r < 0;
}

bool ipvsadmDestLess(const DestKey& a, const DestKey& b) {
    int r = cmpAddr(a.address, b.address);
    if (r == 0) r = static_cast<int>(a.port) - static_cast<int>(b.port);
    return r < 0;
}

std::string formatList(const TableState& table, const TableStatus& status, const ListOptions& o) {
    std::string out;
    if (!o.only) out += fmt("IP Virtual Server version 1.2.1 (size=%u)\n", o.connTableSize);
    out += header(o);
    for (const ServiceEntry* e : orderedServices(table, o.order)) {
        if (o.only && e->service.key != *o.only) continue;
        auto it = status.find(e->service.key);
        out += serviceBlock(*e, it == status.end() ? nullptr : &it->second, o);
    }
    return out;
}

std::string formatTimeouts(const Timeouts& t) {
    return fmt("Timeout (tcp tcpfin udp): %u %u %u\n", t.tcp, t.tcpFin, t.udp);
}

std::string formatSave(const TableState& table, const TableOrder* order) {
    std::string out;
    for (const ServiceEntry* e : orderedServices(table, order)) {
        const Service& s = e->service;
        std::string svc;
        if (s.key.isFwmark())
            svc = "-f " + std::to_string(s.key.fwmark) + (s.key.family() == base::Family::V6 ? " -6" : "");
        else {
            const char* opt = s.key.protocol == kUdp ? "-u" : s.key.protocol == kSctp ? "--sctp-service" : "-t";
            svc = std::string(opt) + " " + hostPort(s.key.address, s.key.port);
        }
        std::string line = "-A " + svc + " -s " + s.scheduler;
        if (s.flags & kSvcPersistent) {
            line += " -p " + std::to_string(s.timeout);
            const std::uint32_t full = s.key.family() == base::Family::V6 ? 128 : 0xffffffffu;
            if (s.netmask != full) line += " -M " + netmaskText(s);
            if (!s.peName.empty()) line += " --pe " + s.peName;
        }
        const std::string flags = schedFlags(s);
        if (!flags.empty()) line += " -b " + flags;
        if (s.flags & kSvcOnePacket) line += " -o";
        out += line + "\n";
        for (const Dest* d : orderedDests(*e, order)) {
            const char* fwd = d->forwarding == Forwarding::Masq     ? "-m"
                              : d->forwarding == Forwarding::Tunnel ? "-i"
                                                                    : "-g";
            std::string dl = "-a " + svc + " -r " + hostPort(d->key.address, d->key.port) + " " + fwd + " -w " +
                             std::to_string(d->weight);
            if (d->forwarding == Forwarding::Tunnel) {
                switch (d->tunnelType) {
                case TunnelType::Ipip: dl += " --tun-type ipip"; break;
                case TunnelType::Gue: dl += " --tun-type gue --tun-port " + std::to_string(d->tunnelPort); break;
                case TunnelType::Gre: dl += " --tun-type gre"; break;
                }
                if (d->tunnelType != TunnelType::Ipip) {
                    if (d->tunnelFlags == TunnelChecksum::Csum) dl += " --tun-csum";
                    else if (d->tunnelFlags == TunnelChecksum::RemCsum) dl += " --tun-remcsum";
                    else dl += " --tun-nocsum";
                }
            }
            out += dl + "\n";
        }
    }
    return out;
}

}  // namespace kmod::ipvsadm

namespace kmod::ipvsadm {

// print_conn(): "%-3s %-6s %-11s %-18s %-18s %s", the expiry as minutes:seconds.
std::string formatConnections(const std::vector<ConnEntry>& conns, bool persistentConn) {
    std::string out = "IPVS connection entries\n";
    out += persistentConn ? fmt("pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
                                "destination", "pe name", "pe_data")
                          : fmt("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
    for (const auto& c : conns) {
        const std::string expire = fmt("%02u:%02u", c.expires / 60, c.expires % 60);
        const std::string cname = hostPort(c.client, c.clientPort), vname = hostPort(c.vaddr, c.vport),
                          dname = hostPort(c.daddr, c.dport);
        if (persistentConn && !c.peName.empty() && !c.peData.empty())
            out +=
                fmt("%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n", c.protocol.c_str(), expire.c_str(), c.state.c_str(),
                    cname.c_str(), vname.c_str(), dname.c_str(), c.peName.c_str(), c.peData.c_str());
        else
            out += fmt("%-3s %-6s %-11s %-18s %-18s %s\n", c.protocol.c_str(), expire.c_str(), c.state.c_str(),
                       cname.c_str(), vname.c_str(), dname.c_str());
    }
    return out;
}

}  // namespace kmod::ipvsadm
