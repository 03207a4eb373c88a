#include "director/HostCheck.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>

#include "conf/ScriptSecurity.h"

namespace director {

namespace {

bool canExecute(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// "file:line: ", or "file: " for what has no line of its own (global settings, static entries)
std::string at(const conf::Location& l) {
    return l.line ? l.file + ":" + std::to_string(l.line) + ": " : l.file + ": ";
}

}  // namespace

HostFacts thisHost() {
    HostFacts h;
    if (struct if_nameindex* names = ::if_nameindex()) {
        for (auto* n = names; n->if_index != 0; ++n) h.interfaces.emplace_back(n->if_name);
        ::if_freenameindex(names);
    }
    struct ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (auto* a = list; a; a = a->ifa_next) {
            if (!a->ifa_addr) continue;
            if (a->ifa_addr->sa_family == AF_INET) {
                const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
                h.addresses.push_back(base::IpAddress::v4(ntohl(in->sin_addr.s_addr)));
            } else if (a->ifa_addr->sa_family == AF_INET6) {
                const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
                h.addresses.push_back(base::IpAddress::fromBytes(base::Family::V6, in6->sin6_addr.s6_addr));
            }
        }
        ::freeifaddrs(list);
    }
    h.executable = &canExecute;
    return h;
}

std::vector<std::string> hostWarnings(const conf::Config& cfg, const HostFacts& host) {
    std::vector<std::string> out;
    auto hasLink = [&](const std::string& n) {
        return std::find(host.interfaces.begin(), host.interfaces.end(), n) != host.interfaces.end();
    };
    auto local = [&](const base::IpAddress& a) {
        return std::find(host.addresses.begin(), host.addresses.end(), a) != host.addresses.end();
    };
    auto link = [&](const conf::Location& where, const std::string& what, const std::string& name) {
        if (!name.empty() && !hasLink(name))
            out.push_back(at(where) + what + ": interface '" + name + "' does not exist on this host");
    };
    const auto& sd = cfg.global.syncDaemon;
    if (sd.enabled) link(conf::Location{cfg.file, 0}, "global.sync_daemon", sd.interface);
    for (const auto& v : cfg.vrrpInstances) {
        const std::string inst = "vrrp instance " + v.name;
        link(v.where, inst, v.interface);
        for (const auto& t : v.trackInterfaces) link(v.where, inst + " track_interfaces", t.interface);
        for (const auto& a : v.virtualAddresses) link(v.where, inst + " VIP " + a.prefix.str(), a.dev);
        for (const auto& a : v.excludedAddresses) link(v.where, inst + " VIP " + a.prefix.str(), a.dev);
        for (const auto& r : v.virtualRoutes) link(v.where, inst + " route to " + r.to.str(), r.dev);
        if (v.unicastSource && !local(*v.unicastSource))
            out.push_back(at(v.where) + inst + ": unicast_source " + v.unicastSource->str() +
                          " is not configured on this host (adverts cannot be sent from it)");
    }
    for (const auto& a : cfg.staticAddresses) link(conf::Location{cfg.file, 0}, "static address " + a.prefix.str(), a.dev);
    for (const auto& r : cfg.staticRoutes) link(conf::Location{cfg.file, 0}, "static route to " + r.to.str(), r.dev);
    for (const auto& vs : cfg.virtualServers)
        for (const auto& rs : vs.realServers)
            for (const auto& c : rs.checks) {
                const std::string what = std::string(conf::name(c.type)) + " check of " + conf::realServerStr(rs);
                link(c.where, what, c.bindInterface);
                if (c.bindIp && !local(*c.bindIp))
                    out.push_back(at(c.where) + what + ": bind_ip " + c.bindIp->str() +
                                  " is not configured on this host (the check cannot bind it)");
            }
    if (host.executable)
        for (const auto& s : conf::scriptCommands(cfg)) {
            if (s.cmd->argv.empty()) continue;
            const std::string& program = s.cmd->argv[0];
            if (program.empty() || program[0] != '/') continue;  // the loader has said so
            if (!host.executable(program))
                out.push_back(at(s.where) + s.what + ": " + program +
                              " does not exist or is not executable on this host (it would fail every run)");
        }
    return out;
}

}  // namespace director
