// Schedulers of the userspace data plane, with the kernel's semantics (net/netfilter/ipvs/ip_vs_*.c)
// so that a service behaves the same on either plane. Pure: a scheduler sees the service's
// destinations in the kernel's list order (newest first, as ip_vs_add_dest puts them) with their
// weights, connection counts and overload flags, and picks one (or none) for a new connection.
// update() is the kernel's add_dest/upd_dest/del_dest hook: called whenever the list changes.
// Not thread-safe: each forwarding thread owns its schedulers.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/IpAddress.h"

namespace kmod::sched {

struct SchedDest {
    base::IpAddress address;
    std::uint16_t port = 0;
    int weight = 1;
    std::uint32_t activeConns = 0;
    std::uint32_t inactConns = 0;
    bool overloaded = false;  // IP_VS_DEST_F_OVERLOAD (upper threshold reached)
    // The kernel's last_weight: the weight when added, then the latest non-zero weight (mh keeps a
    // quiesced destination's slots with it). -1: same as weight.
    int lastWeight = -1;

    int lastNonZeroWeight() const { return lastWeight < 0 ? weight : lastWeight; }

    bool available() const { return weight > 0 && !overloaded; }
};

// What a scheduler may look at of the connection being scheduled.
struct SchedPacket {
    base::IpAddress source;
    std::uint16_t sourcePort = 0;
    base::IpAddress destination;  // the virtual address (dh, lblc hash it)
};

class Scheduler {
public:
    virtual ~Scheduler() = default;
    virtual void update(const std::vector<SchedDest>& dests) = 0;
    // Index into `dests`, or nullopt when no destination can take the connection.
    virtual std::optional<size_t> pick(const std::vector<SchedDest>& dests, const SchedPacket& p) = 0;
};

// A new service's destinations as the kernel sees them arrive: ip_vs_add_dest() calls the
// scheduler's hook once per destination, the list growing at its head (wrr's current weight
// depends on that history, so a table loaded in one go schedules like one built by ipvsadm -a).
inline void updateOneByOne(Scheduler& s, const std::vector<SchedDest>& dests) {
    for (size_t k = 1; k <= dests.size(); ++k)
        s.update(std::vector<SchedDest>(dests.end() - static_cast<long>(k), dests.end()));
    if (dests.empty()) s.update(dests);
}

// `flags` are the service flags (kSvcSched1 = sh/mh fallback, kSvcSched2 = sh/mh port).
// Null for a name this plane does not implement.
std::unique_ptr<Scheduler> makeScheduler(const std::string& name, std::uint32_t flags, std::uint32_t seed = 1);

// The kernel's ip_vs_dest_conn_overhead(): active connections weigh 256 times inactive ones.
inline std::uint64_t connOverhead(const SchedDest& d) {
    return (static_cast<std::uint64_t>(d.activeConns) << 8) + d.inactConns;
}

}  // namespace kmod::sched
