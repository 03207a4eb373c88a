// Conntrack: the connections of the nftables plane, read from the kernel's connection tracking over
// ctnetlink (Debian's libnetfilter-conntrack-dev). The plane's connections are the ones whose
// original destination is one of its virtual services and that were DNATed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/IpAddress.h"
#include "base/Result.h"

namespace kmod::nftables {

struct CtEntry {
    std::uint8_t protocol = 0;  // IPPROTO_*
    base::IpAddress client, vaddr, daddr;
    std::uint16_t clientPort = 0, vport = 0, dport = 0;
    std::string state;    // IPVS's names: ESTABLISHED, SYN_RECV, FIN_WAIT, TIME_WAIT, CLOSE, ...; UDP
    bool active = false;  // what IPVS counts as active (an established TCP connection)
    std::uint32_t expires = 0;
    std::uint32_t mark = 0;
    bool dnat = false;
};

// Every tracked connection of this network namespace (IPv4 and IPv6).
base::Result<std::vector<CtEntry>> dumpConntrack();

// Deletes the tracked connections `stale` picks among those that were not DNATed. A packet to a
// virtual service that came while the plane had no rule for it (directord starting or stopping,
// the table being replaced) leaves such an entry, and every later packet with its 5-tuple follows
// it rather than the rules, for as long as it lives (SYN_SENT: 120 s): a client reusing the source
// port is refused or left unanswered. The number deleted.
base::Result<size_t> forgetUntranslated(const std::function<bool(const CtEntry&)>& stale);

}  // namespace kmod::nftables
