#include "director/lvs/ServerRef.h"

#include <charconv>
#include <vector>

namespace director::lvs {
namespace {

std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

struct VsName {
    std::optional<std::uint32_t> fwmark;
    std::optional<base::SocketAddress> address;
    std::string protocol;  // empty: any
};

std::optional<VsName> parseVs(std::string text) {
    VsName n;
    for (const char* p : {"fwmark:", "fwmark ", "fwmark="})
        if (text.rfind(p, 0) == 0) {
            std::string rest = text.substr(7);
            if (auto v6 = rest.find(" (ipv6)"); v6 != std::string::npos) rest.erase(v6);
            n.fwmark = number(rest);
            if (!n.fwmark || *n.fwmark == 0) return std::nullopt;
            return n;
        }
    if (auto slash = text.rfind('/'); slash != std::string::npos && text.find(']', slash) == std::string::npos) {
        n.protocol = text.substr(slash + 1);
        text.erase(slash);
        if (n.protocol != "tcp" && n.protocol != "udp" && n.protocol != "sctp") return std::nullopt;
    }
    n.address = base::SocketAddress::parse(text);
    if (!n.address) return std::nullopt;
    return n;
}

bool matches(const conf::VirtualServer& vs, const VsName& n) {
    if (n.fwmark) return vs.fwmark == *n.fwmark;
    return !vs.fwmark && vs.address && *vs.address == n.address->address && vs.port == n.address->port &&
           (n.protocol.empty() || n.protocol == vs.protocol);
}

std::string listOf(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > 8) out += ", ... (" + std::to_string(names.size()) + " in all)";
    return out.empty() ? "none" : out;
}

}  // namespace

std::optional<ServerRef> findServer(const conf::Config& cfg, const std::string& vsText, const std::string& rsText,
                                    std::string& error) {
    const auto name = parseVs(vsText);
    if (!name) {
        error =
            "'" + vsText + "' is not a virtual server (write it as 10.0.0.1:80/tcp, [2001:db8::1]:80/udp or fwmark:5)";
        return std::nullopt;
    }
    std::vector<const conf::VirtualServer*> found;
    std::vector<std::string> all;
    for (const auto& vs : cfg.virtualServers) {
        all.push_back(vs.str());
        if (matches(vs, *name)) found.push_back(&vs);
    }
    if (found.empty()) {
        error = "no virtual server " + vsText + " in " + cfg.file + " (there are: " + listOf(all) + ")";
        return std::nullopt;
    }
    if (found.size() > 1) {
        std::vector<std::string> names;
        for (const auto* vs : found) names.push_back(vs->str());
        error = vsText + " names " + std::to_string(found.size()) + " virtual servers (" + listOf(names) +
                "); add the protocol";
        return std::nullopt;
    }
    const conf::VirtualServer& vs = *found[0];
    std::optional<base::SocketAddress> rsAddr = base::SocketAddress::parse(rsText);
    std::optional<base::IpAddress> rsBare;
    if (!rsAddr) {
        std::string bare = rsText;
        if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
        rsBare = base::IpAddress::parse(bare);
        if (!rsBare) {
            error = "'" + rsText + "' is not a real server (write it as 10.0.1.5:8080 or [2001:db8::5]:80)";
            return std::nullopt;
        }
    }
    std::vector<const conf::RealServer*> hits;
    std::vector<std::string> servers;
    for (const auto& rs : vs.realServers) {
        servers.push_back(conf::realServerStr(rs));
        if (rsAddr ? rs.address == rsAddr->address && rs.port == rsAddr->port : rs.address == *rsBare)
            hits.push_back(&rs);
    }
    if (hits.size() != 1) {
        error = (hits.empty() ? "no real server " + rsText + " in " : rsText + " names several real servers of ") +
                vs.str() + " (it has: " + listOf(servers) + ")";
        return std::nullopt;
    }
    return ServerRef{&vs, hits[0]};
}

}  // namespace director::lvs
