// The sync daemon's multicast sockets, set up as the kernel sets up its own (ip_vs_sync.c,
// make_send_sock / make_receive_sock), and the daemon settings resolved with the kernel's defaults
// and limits (start_sync_thread), so `ipvsctl -L --daemon` shows what runs on either plane.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base/IpAddress.h"
#include "base/Result.h"
#include "kmod/sync/SyncProtocol.h"

namespace kmod::sync {

// One daemon's settings, every default filled in.
struct Endpoint {
    bool master = true;
    std::string interface;
    int ifindex = 0;
    std::uint8_t syncId = 0;
    base::IpAddress group;
    std::uint16_t port = 0;
    std::uint8_t ttl = 1;
    std::uint16_t maxLen = 0;  // the largest datagram sent (master) or taken (backup)
    std::vector<base::IpAddress> peers;  // backup: the senders it hears (empty: any)
    bool operator==(const Endpoint&) const = default;
};

// The kernel's resolution: group 224.0.0.81, port 8848, ttl 1; maxlen unset: 1500 (master) or the
// interface MTU (backup, at least 1500) less the IP and UDP headers; set: clamped to
// [1 (master) / 1024 (backup), 65535 - headers]. ENODEV for an unknown interface, EINVAL for a
// group that is not multicast.
base::Result<Endpoint> resolve(bool master, const std::string& interface, std::uint32_t syncId, std::uint16_t maxLen,
                               const std::optional<base::IpAddress>& group, std::uint16_t port, std::uint8_t ttl);

// A master's socket: non-blocking UDP connected to group:port, multicast out of the interface with
// the TTL, no loopback (a director running both daemons does not hear itself), fragmentation
// allowed (DF clear). Returns the descriptor (close-on-exec).
base::Result<int> openSender(const Endpoint& e);

// A backup's socket: non-blocking UDP on the port (any address, so datagrams sent to it from the
// wrong interface or to the wrong group are seen, counted and dropped), in the group on the
// interface, with IP_PKTINFO / IPV6_RECVPKTINFO for the check.
base::Result<int> openReceiver(const Endpoint& e);

// Where a received datagram arrived (from the socket's ancillary data).
struct Arrival {
    int ifindex = 0;
    base::IpAddress destination;
    base::IpAddress source;
};

// Reads one datagram into `buf`; returns its full length (longer than the buffer when it was cut,
// so the size check drops it), or -1 with errno (EAGAIN when none waits).
long receiveOne(int fd, std::uint8_t* buf, size_t size, Arrival& from);

// What a backup does with a datagram receiveOne() returned (`length` of which `buf` holds up to
// `size`): longer than its maxlen (or the buffer) is dropped as the kernel's cut receive buffer
// drops it, one from another interface or not for the group is foreign, then decodeSync. Every
// drop is counted in `drops` by reason; nullopt when the whole datagram went.
using DropCounts = std::array<std::uint64_t, static_cast<size_t>(SyncDrop::Count_)>;
std::optional<SyncDecoded> accept(const std::uint8_t* buf, size_t size, long length, const Arrival& from,
                                  const Endpoint& e, DropCounts& drops);

}  // namespace kmod::sync
