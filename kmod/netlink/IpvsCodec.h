// The IPVS generic netlink protocol (include/uapi/linux/ip_vs.h) as pure functions: messages are
// built into byte vectors and replies are read from byte spans, with no socket in sight, so every
// encoding is tested against bytes recorded from ipvsadm and the kernel (tests/unit/kmod/
// IpvsCodecTest.cpp). NetlinkIpvsTable is the thin socket shell around this.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kmod/IpvsTable.h"

namespace kmod::netlink {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kGenlVersion = 1;

enum Command : std::uint8_t {
    kCmdNewService = 1,
    kCmdSetService = 2,
    kCmdDelService = 3,
    kCmdGetService = 4,
    kCmdNewDest = 5,
    kCmdSetDest = 6,
    kCmdDelDest = 7,
    kCmdGetDest = 8,
    kCmdNewDaemon = 9,
    kCmdDelDaemon = 10,
    kCmdGetDaemon = 11,
    kCmdSetConfig = 12,
    kCmdGetConfig = 13,
    kCmdSetInfo = 14,
    kCmdGetInfo = 15,
    kCmdZero = 16,
    kCmdFlush = 17,
};

// The kernel's sync daemon configuration (ipvsadm --start-daemon).
using SyncDaemon = kmod::SyncDaemon;
using Info = kmod::PlaneInfo;

// ---- building messages ----

class AttrWriter {
public:
    explicit AttrWriter(Bytes& out) : out_(out) {}
    void put(std::uint16_t type, const void* data, size_t len);
    void u8(std::uint16_t type, std::uint8_t v) { put(type, &v, 1); }
    void u16(std::uint16_t type, std::uint16_t v) { put(type, &v, 2); }  // host order
    void be16(std::uint16_t type, std::uint16_t v);
    void u32(std::uint16_t type, std::uint32_t v) { put(type, &v, 4); }
    void string(std::uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }
    size_t beginNest(std::uint16_t type);  // NLA_F_NESTED, as libnl sets it
    void endNest(size_t at);

private:
    Bytes& out_;
};

// nlmsghdr + genlmsghdr + attributes.
Bytes message(std::uint16_t family, std::uint8_t cmd, std::uint16_t flags, std::uint32_t seq, std::uint32_t portId,
              const Bytes& attrs);

// The command and attributes of one table op (services whole on add/edit, by key otherwise).
std::uint8_t commandFor(Op::Kind k);
Bytes opAttrs(const Op& op);
Bytes serviceKeyAttrs(const ServiceKey& key);  // for GET_DEST and ZERO of one service
Bytes timeoutAttrs(const Timeouts& t);         // zero fields are left out (unchanged)
Bytes daemonAttrs(const SyncDaemon& d, bool whole);

// ---- reading replies ----

struct Attr {
    std::uint16_t type;  // without the nested/byte-order flags
    std::span<const std::uint8_t> data;
};
// Attributes in a span, bounds-checked; nullopt when one overruns (a malformed message).
std::optional<std::vector<Attr>> parseAttrs(std::span<const std::uint8_t> data);

struct Header {
    std::uint32_t len;
    std::uint16_t type, flags;
    std::uint32_t seq, pid;
};
// Splits a received buffer into messages; nullopt when a length is inconsistent.
struct Message {
    Header header;
    std::span<const std::uint8_t> payload;  // after nlmsghdr (genlmsghdr first, for family messages)
};
std::optional<std::vector<Message>> splitMessages(std::span<const std::uint8_t> buf);
// An NLMSG_ERROR payload: 0 for an ack, else the positive errno.
std::optional<int> errorCode(const Message& m);
// A genl message's attributes (after the 4-byte genlmsghdr).
std::optional<std::vector<Attr>> genlAttrs(const Message& m);

struct ServiceReply {
    Service service;
    ServiceStatus status;  // stats and rates (its dests filled from GET_DEST)
};
struct DestReply {
    Dest dest;
    DestStatus status;
};
std::optional<ServiceReply> decodeService(const std::vector<Attr>& top);
std::optional<DestReply> decodeDest(const std::vector<Attr>& top, base::Family serviceFamily);
std::optional<Timeouts> decodeTimeouts(const std::vector<Attr>& top);
std::optional<Info> decodeInfo(const std::vector<Attr>& top);
std::optional<SyncDaemon> decodeDaemon(const std::vector<Attr>& top);

}  // namespace kmod::netlink
