#include "kmod/netlink/ProcConnections.h"

#include <sstream>
#include <string>

namespace kmod::netlink {

namespace {

// An address as ip_vs_conn_seq_show() writes it: IPv4 as 8 hex digits, IPv6 as %pI6.
std::optional<base::IpAddress> procAddress(const std::string& w) {
    if (w.find(':') != std::string::npos) return base::IpAddress::parse(w);
    if (w.size() != 8 || w.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return std::nullopt;
    return base::IpAddress::v4(static_cast<std::uint32_t>(std::stoul(w, nullptr, 16)));
}

std::optional<std::uint16_t> procPort(const std::string& w) {
    if (w.empty() || w.size() > 4 || w.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        return std::nullopt;
    return static_cast<std::uint16_t>(std::stoul(w, nullptr, 16));
}

}  // namespace

std::vector<ConnEntry> parseProcConnections(std::string_view text, size_t* skipped) {
    std::vector<ConnEntry> out;
    size_t bad = 0;
    bool header = true;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string line(text.substr(pos, end - pos));
        pos = end + 1;
        if (header) {  // "Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires PEName PEData"
            header = false;
            continue;
        }
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::istringstream in(line);
        std::string proto, ca, cp, va, vp, da, dp, state, expires;
        ConnEntry c;
        in >> proto >> ca >> cp >> va >> vp >> da >> dp >> state >> expires >> c.peName >> c.peData;
        const auto caddr = procAddress(ca), vaddr = procAddress(va), daddr = procAddress(da);
        const auto cport = procPort(cp), vport = procPort(vp), dport = procPort(dp);
        if (!caddr || !vaddr || !daddr || !cport || !vport || !dport || state.empty() || expires.empty() ||
            expires.find_first_not_of("0123456789") != std::string::npos || expires.size() > 9) {
            ++bad;
            continue;
        }
        c.protocol = proto;
        c.client = *caddr;
        c.clientPort = *cport;
        c.vaddr = *vaddr;
        c.vport = *vport;
        c.daddr = *daddr;
        c.dport = *dport;
        c.state = state;
        c.expires = static_cast<std::uint32_t>(std::stoul(expires));
        out.push_back(std::move(c));
    }
    if (skipped) *skipped = bad;
    return out;
}

}  // namespace kmod::netlink
