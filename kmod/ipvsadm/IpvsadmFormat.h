// ipvsadm's output formats (ipvsadm 1.31, byte for byte): the list (-L/-l with -n, --stats, --rate,
// --thresholds, --persistent-conn, --tun-info, --exact, one service), --timeout and -S. Pure: a
// table, its status and timeouts in, text out. Names are always numeric (-n); ipvsctl resolves
// nothing. Checked against outputs recorded from Debian's ipvsadm in the IPVS VM
// (tests/fixtures/ipvsadm).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kmod/IpvsTable.h"
#include "kmod/Stats.h"

namespace kmod::ipvsadm {

enum class ListFormat { Plain, Stats, Rate, Thresholds, PersistentConn, TunInfo };

// --nosort: the table's own order (the kernel's hash order, as its dump returns it).
struct TableOrder {
    std::vector<ServiceKey> services;
    std::map<ServiceKey, std::vector<DestKey>> dests;
};

struct ListOptions {
    ListFormat format = ListFormat::Plain;
    bool exact = false;
    std::optional<ServiceKey> only;  // list one service, without the version line
    std::uint32_t connTableSize = 4096;
    const TableOrder* order = nullptr;  // set: --nosort
};

std::string formatList(const TableState& table, const TableStatus& status, const ListOptions& options);
std::string formatTimeouts(const Timeouts& t);
std::string formatSave(const TableState& table, const TableOrder* order = nullptr);
// ipvsadm -Lnc (and with --persistent-conn, the persistence engine columns).
std::string formatConnections(const std::vector<ConnEntry>& conns, bool persistentConn);

// ipvsadm's order: fwmark, family, protocol, address, port (with its integer arithmetic).
bool ipvsadmServiceLess(const ServiceKey& a, const ServiceKey& b);
bool ipvsadmDestLess(const DestKey& a, const DestKey& b);

}  // namespace kmod::ipvsadm
