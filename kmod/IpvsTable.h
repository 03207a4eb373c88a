// IpvsTable: the one interface through which the director touches a data plane.
// Implementations: InMemoryIpvsTable (tests, dry runs), NetlinkIpvsTable (kernel IPVS) and
// UserspaceIpvsTable (the embedded data plane). One contract test runs on all.
// Not thread-safe: the lvs worker's event loop owns it.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base/Result.h"
#include "kmod/Model.h"
#include "kmod/Stats.h"

namespace kmod {

// One entry of the connection table (ipvsadm -c), as /proc/net/ip_vs_conn gives it: a connection,
// or a persistence template (state NONE, client port 0).
struct ConnEntry {
    std::string protocol = "TCP";  // TCP UDP SCTP, or IP for a fwmark service's template
    base::IpAddress client;
    std::uint16_t clientPort = 0;
    base::IpAddress vaddr;
    std::uint16_t vport = 0;
    base::IpAddress daddr;
    std::uint16_t dport = 0;
    std::string state;           // the kernel's names: ESTABLISHED, SYN_RECV, FIN_WAIT, TIME_WAIT, UDP, NONE...
    std::uint32_t expires = 0;   // seconds left
    std::string peName, peData;  // persistence engine (sip), when there is one
};

struct Timeouts {
    std::uint32_t tcp = 900;
    std::uint32_t tcpFin = 120;
    std::uint32_t udp = 300;
    bool operator==(const Timeouts&) const = default;
};

struct OpFailure {
    size_t index = 0;  // position of the op in the batch
    Op op;
    std::error_code error;
};

// A batch runs to the end: one refused op does not stop the others (a missing service still fails
// its destinations, each on its own). The first failure is reported with its op and errno.
struct ApplyResult {
    size_t applied = 0;
    size_t failed = 0;
    std::optional<OpFailure> firstFailure;
    bool ok() const { return failed == 0; }
    // Counts one op's outcome; returns true when it was applied.
    bool record(size_t index, const Op& op, std::error_code ec) {
        if (!ec) {
            ++applied;
            return true;
        }
        ++failed;
        if (!firstFailure) firstFailure = OpFailure{index, op, ec};
        return false;
    }
};

// An IPVS connection sync daemon, as the kernel's netlink describes one (ipvsadm --start-daemon).
// What a backup installs from its master at most, on the planes that keep synced state
// themselves (the userspace plane; the kernel's own daemon takes what the kernel takes). Each cap
// counts what is in the table now; a message past one is refused and counted.
struct SyncLimits {
    std::uint32_t maxConnections = 131072;  // synced connections in all (about 200 bytes each)
    std::uint32_t maxTemplates = 131072;    // persistence templates installed by sync, in all
    std::uint32_t maxPerSource = 65536;     // of each of the two, from one sender
    bool operator==(const SyncLimits&) const = default;
};

struct SyncDaemon {
    enum State : std::uint32_t { kMaster = 1, kBackup = 2 };
    std::uint32_t state = kMaster;
    std::string interface;
    std::uint32_t syncId = 0;
    std::uint16_t maxLen = 0;              // 0: the plane's default
    std::optional<base::IpAddress> group;  // unset: 224.0.0.81
    std::uint16_t port = 0;                // 0: 8848
    std::uint8_t ttl = 0;                  // 0: 1
    // backup, on planes that filter what they install (SyncDaemonControl::filtersReceive)
    std::vector<base::IpAddress> peers;  // empty: any sender on the interface and group
    SyncLimits limits;
    bool operator==(const SyncDaemon&) const = default;
};

// What a plane's sync daemons did (the userspace plane counts everything; the kernel says nothing,
// so the kernel plane reports what its own listener on the group saw).
struct SyncStatus {
    std::uint64_t messagesSent = 0, entriesSent = 0, sendErrors = 0, queueDrops = 0;
    std::uint64_t messagesReceived = 0, entriesReceived = 0;
    std::uint64_t templatesInstalled = 0, connectionsInstalled = 0, unbound = 0, stale = 0;
    std::map<std::string, std::uint64_t> drops;  // by reason (kmod::sync::syncDropKey)
    std::uint32_t lastLagMs = 0;                 // master: the last datagram's oldest entry, queued to sent
    std::uint32_t syncedConnections = 0;         // backup: learned connections in the table now
    bool operator==(const SyncStatus&) const = default;
};

// The userspace plane's descriptor budget; 0: derived from RLIMIT_NOFILE (kmod/userspace/Budget.h).
struct ForwardingLimits {
    std::uint32_t udpFlows = 0, udpFlowsPerSource = 0, udpUnansweredTimeout = 10;
    std::uint32_t tcpConnections = 0, tcpConnectionsPerSource = 0;
    std::uint32_t tcpProgressTimeout = 60;             // seconds; 0: off
    std::uint8_t sourcePrefixV4 = 32, sourcePrefixV6 = 64;  // what counts as one source
    bool operator==(const ForwardingLimits&) const = default;
};

struct ForwardingCounters {
    std::uint64_t udpFlows = 0, udpRefused = 0, udpLimit = 0, udpPerSource = 0;
    std::uint64_t tcpConnections = 0, tcpRefused = 0, tcpLimit = 0, tcpPerSource = 0;
    bool operator==(const ForwardingCounters&) const = default;
};

// The plane's version and connection table size (ipvsadm's first list line).
struct PlaneInfo {
    std::uint32_t version = 0;  // 0x010201 prints as 1.2.1
    std::uint32_t connTableSize = 0;
};

// Sync daemons, on the planes that run them: asked of the table (IpvsTable::syncDaemons()), never
// found by a downcast.
class SyncDaemonControl {
public:
    virtual ~SyncDaemonControl() = default;
    virtual base::Result<std::vector<SyncDaemon>> daemons() = 0;
    // EEXIST: one runs in that state already.
    virtual std::error_code startDaemon(const SyncDaemon& d) = 0;
    // ESRCH: none runs in that state.
    virtual std::error_code stopDaemon(std::uint32_t state) = 0;
    // What the daemons counted, where the plane knows.
    virtual std::optional<SyncStatus> syncStatus() { return std::nullopt; }
    // Calls `done` once daemons() and syncStatus() are current (at once where they always are).
    virtual void refreshDaemons(std::function<void()> done) { done(); }
    // Whether a backup daemon here takes SyncDaemon::peers and limits (and reports them back).
    virtual bool filtersReceive() const { return false; }
};

// Applies `op` to `t` with the kernel's rules (unknown scheduler: ENOENT; then applyOp's errnos).
std::error_code applyLikeKernel(TableState& t, const Op& op);

class IpvsTable {
public:
    virtual ~IpvsTable() = default;
    // "kernel", "userspace" or "memory": for logs and status.
    virtual std::string name() const = 0;
    virtual base::Result<TableState> dump() = 0;
    // Connection counts, traffic totals and rates of every service and destination.
    virtual base::Result<TableStatus> status() = 0;
    virtual ApplyResult apply(const std::vector<Op>& ops) = 0;
    // Deletes every service (ipvsadm -C).
    virtual std::error_code flush() = 0;
    virtual base::Result<Timeouts> timeouts() = 0;
    // Zero fields leave the current value unchanged, as with ipvsadm --set.
    virtual std::error_code setTimeouts(const Timeouts& t) = 0;
    // The connection table with its persistence templates (ipvsadm -c).
    virtual base::Result<std::vector<ConnEntry>> connections() = 0;
    // The order of the last dump() (services, and each one's destinations), for ipvsadm --nosort.
    virtual std::vector<std::pair<ServiceKey, std::vector<DestKey>>> lastDumpOrder() const { return {}; }
    // Zeroes the counters of one service, or of all (ipvsadm -Z); ESRCH for an unknown service.
    virtual std::error_code zero(const std::optional<ServiceKey>& only) = 0;

    // Calls `done` once status() and connections() reflect the plane as it is now (at once for
    // planes in this process; the userspace plane may have to ask the forwarding worker).
    virtual void refresh(std::function<void()> done) { done(); }

    // Capabilities some planes have (null / nullopt where they do not).
    virtual std::optional<PlaneInfo> info() { return std::nullopt; }
    // The userspace plane's budget (the kernel's own limits are its sysctls).
    virtual void setForwardingLimits(const ForwardingLimits& l) { (void)l; }
    virtual std::optional<ForwardingCounters> forwarding() { return std::nullopt; }
    virtual SyncDaemonControl* syncDaemons() { return nullptr; }
    // How many atomic changes the plane has made, where it makes them as one (the nftables plane:
    // one transaction per apply()).
    virtual std::optional<std::uint64_t> transactions() { return std::nullopt; }
};

}  // namespace kmod
