// HostCheck: what `directord -t` can tell about this host beyond the file: interfaces the config
// names that do not exist here, addresses it sends from that are not configured here, programs it
// runs that are missing or not executable. Warnings, not errors: an interface may come later (a
// VLAN, a bond), and a config is often checked on another machine; but "configuration OK" then
// means it would run here as written. For a freshly imported keepalived.conf above all.
#pragma once
#include <string>
#include <vector>

#include "conf/Config.h"

namespace director {

struct HostFacts {
    std::vector<std::string> interfaces;        // names of the links here
    std::vector<base::IpAddress> addresses;     // addresses configured here
    // Whether a program exists and this user (root) may execute it.
    bool (*executable)(const std::string& path) = nullptr;
};

// The facts of this machine (if_nameindex, getifaddrs, access(2)).
HostFacts thisHost();

// "file:line: what: why" lines, in the config's order.
std::vector<std::string> hostWarnings(const conf::Config& cfg, const HostFacts& host);

}  // namespace director
