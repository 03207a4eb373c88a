// The kernel's connection table as /proc/net/ip_vs_conn shows it (what ipvsadm -c reads), parsed
// into ConnEntry values. Pure: the NetlinkIpvsTable reads the file, this turns its text into entries.
#pragma once
#include <string_view>
#include <vector>

#include "kmod/IpvsTable.h"

namespace kmod::netlink {

// /proc/net/ip_vs_conn (the file ipvsadm -c reads). Lines it cannot read are skipped and counted.
std::vector<ConnEntry> parseProcConnections(std::string_view text, size_t* skipped = nullptr);

}  // namespace kmod::netlink
