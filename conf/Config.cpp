#include "conf/Config.h"

#include <cstdio>

namespace conf {

std::string Command::str() const {
    std::string s;
    for (const auto& a : argv) {
        if (!s.empty()) s += ' ';
        s += a.find_first_of(" \t") == std::string::npos && !a.empty() ? a : "\"" + a + "\"";
    }
    return s;
}

std::string VirtualServer::str() const {
    if (fwmark) return "fwmark " + std::to_string(fwmark) + (family == base::Family::V6 ? " (ipv6)" : "");
    const std::string a = address ? address->str() : "?";
    return (family == base::Family::V6 ? "[" + a + "]" : a) + ":" + std::to_string(port) + "/" + protocol;
}

std::string realServerStr(const RealServer& rs) {
    return rs.address.isV4() ? rs.address.str() + ":" + std::to_string(rs.port)
                             : "[" + rs.address.str() + "]:" + std::to_string(rs.port);
}

const char* name(DataPlane v) {
    switch (v) {
    case DataPlane::Auto: return "auto";
    case DataPlane::Kernel: return "kernel";
    case DataPlane::Userspace: return "userspace";
    case DataPlane::Memory: return "memory";
    case DataPlane::Nftables: return "nftables";
    }
    return "?";
}
const char* name(FlushOnStop v) {
    switch (v) {
    case FlushOnStop::Created: return "created";
    case FlushOnStop::All: return "all";
    case FlushOnStop::None: return "none";
    }
    return "?";
}
const char* name(CheckType v) {
    switch (v) {
    case CheckType::Tcp: return "tcp";
    case CheckType::Http: return "http";
    case CheckType::Https: return "https";
    case CheckType::Script: return "script";
    case CheckType::Udp: return "udp";
    case CheckType::Dns: return "dns";
    case CheckType::Smtp: return "smtp";
    case CheckType::Ping: return "ping";
    case CheckType::File: return "file";
    case CheckType::Grpc: return "grpc";
    case CheckType::Bfd: return "bfd";
    }
    return "?";
}
const char* name(Forwarding v) {
    switch (v) {
    case Forwarding::Masq: return "nat";
    case Forwarding::Route: return "dr";
    case Forwarding::Tunnel: return "tun";
    case Forwarding::LocalNode: return "local";
    }
    return "?";
}
const char* name(TunnelType v) {
    switch (v) {
    case TunnelType::Ipip: return "ipip";
    case TunnelType::Gue: return "gue";
    case TunnelType::Gre: return "gre";
    }
    return "?";
}
const char* name(TunnelChecksum v) {
    switch (v) {
    case TunnelChecksum::NoCsum: return "nocsum";
    case TunnelChecksum::Csum: return "csum";
    case TunnelChecksum::RemCsum: return "remcsum";
    }
    return "?";
}
const char* name(AuthType v) {
    switch (v) {
    case AuthType::None: return "NONE";
    case AuthType::Pass: return "PASS";
    case AuthType::Ah: return "AH";
    }
    return "?";
}

std::string ruleText(const VirtualRule& r) {
    std::string out;
    auto add = [&](const std::string& w) { out += (out.empty() ? "" : " ") + w; };
    if (r.priority) add("pref " + std::to_string(*r.priority));
    add(r.from ? "from " + r.from->str() : std::string("from all"));
    if (r.to) add("to " + r.to->str());
    if (r.fwmark) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "fwmark %#x", *r.fwmark);
        add(buf);
        if (r.fwmask) {
            std::snprintf(buf, sizeof buf, "/%#x", *r.fwmask);
            out += buf;
        }
    }
    if (r.tos) add("tos " + std::to_string(*r.tos));
    if (!r.iif.empty()) add("iif " + r.iif);
    if (!r.oif.empty()) add("oif " + r.oif);
    add(r.action == "table" ? "lookup " + std::to_string(r.table) : r.action);
    return out;
}

}  // namespace conf
