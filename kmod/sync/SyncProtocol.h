// The IPVS connection sync protocol, version 1, as Linux speaks it (net/netfilter/ipvs/ip_vs_sync.c;
// docs/ARCHITECTURE.md, "Sync"). Pure: entries in, datagrams out, and back, with every malformed
// input dropped and counted by reason exactly where the kernel drops it (the whole datagram, the
// rest of it, or one entry).
//   header (8)    reserved 0, syncid, size (be16, the whole datagram), nr_conns, version 1, spare 0
//   entry (36/72) type (bit 0: IPv6), protocol, ver_size (be16: version 0 << 12 | length),
//                 flags (be32), state (be16), cport, vport, dport (be16, network order), fwmark (be32),
//                 timeout (be32, seconds: the state's full timeout), caddr, vaddr, daddr
//   options       type, length, data: 1 sequence data (24), 2 PE data, 3 PE name; 0x40 = optional
//   entries start 4-aligned (zero padding before the next one, none after the last)
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/IpAddress.h"

namespace kmod::sync {

// IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h)
inline constexpr std::uint32_t kFwdMask = 0x0007;
inline constexpr std::uint32_t kFwdMasq = 0x0000, kFwdTunnel = 0x0002, kFwdRoute = 0x0003;
inline constexpr std::uint32_t kSyncFlag = 0x0020;
inline constexpr std::uint32_t kNoOutput = 0x0080;
inline constexpr std::uint32_t kInactive = 0x0100;
inline constexpr std::uint32_t kSeqMask = 0x0600;
inline constexpr std::uint32_t kNoCport = 0x0800;
inline constexpr std::uint32_t kTemplate = 0x1000;
inline constexpr std::uint32_t kOnePacket = 0x2000;
inline constexpr std::uint32_t kBackupMask = 0x1F87;  // the flags a receiver takes

// TCP states (IP_VS_TCP_S_*) and their /proc/net/ip_vs_conn names; UDP has one (0, "UDP").
enum TcpState : std::uint16_t {
    kTcpNone = 0,
    kTcpEstablished = 1,
    kTcpSynSent = 2,
    kTcpSynRecv = 3,
    kTcpFinWait = 4,
    kTcpTimeWait = 5,
    kTcpClose = 6,
    kTcpCloseWait = 7,
    kTcpLastAck = 8,
    kTcpListen = 9,
    kTcpSynAck = 10,
    kTcpStates = 11
};
const char* tcpStateName(std::uint16_t state);
inline constexpr std::uint16_t kSctpStates = 14;

inline constexpr std::uint16_t kDefaultPort = 8848;
inline constexpr std::uint32_t kDefaultGroup = 0xe0000051;  // 224.0.0.81
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kV4EntrySize = 36, kV6EntrySize = 72;

struct SeqData {
    std::array<std::uint32_t, 6> words{};  // in_seq {init, delta, previous_delta}, out_seq {...}
    bool operator==(const SeqData&) const = default;
};

// One connection, or a persistence template (flags & kTemplate, cport 0).
struct SyncConn {
    base::Family family = base::Family::V4;
    std::uint8_t protocol = 6;
    std::uint32_t flags = 0;
    std::uint16_t state = 0;
    std::uint16_t cport = 0, vport = 0, dport = 0;  // host order here
    std::uint32_t fwmark = 0;
    std::uint32_t timeout = 0;  // seconds
    base::IpAddress caddr, vaddr, daddr;
    std::optional<SeqData> seq;
    std::string peName, peData;
    bool operator==(const SyncConn&) const = default;
};

enum class SyncDrop : std::uint8_t {
    TooShort,         // shorter than a header
    BadSize,          // the header's size is not the datagram's length
    WrongSyncId,      // another pair's messages
    NotVersion1,      // a version 0 (or unknown) message
    Truncated,        // an entry runs past the end (the rest is dropped)
    BadEntryVersion,  // an entry's version is not 0 (the rest is dropped)
    BadType,          // an entry's type has unknown bits (the rest is dropped)
    BadOption,        // a malformed option: zero length, past the end, wrong size, twice (the rest is dropped)
    UnknownOption,    // a mandatory option we do not know (that entry is skipped)
    UnknownProtocol,  // not TCP, UDP or SCTP (that entry is skipped)
    BadState,         // a state past the protocol's (that entry is skipped)
    BadPe,            // PE data without a name (that entry is skipped)
    Foreign,          // from outside the configured interface or group (the daemon's check)
    NotPeer,          // from a sender not in the configured peers
    Count_
};
const char* syncDropKey(SyncDrop d);  // snake_case, for status

struct SyncDecoded {
    std::uint8_t syncId = 0;
    std::vector<SyncConn> conns;
    std::vector<SyncDrop> drops;  // what was skipped or cut, in order
};

// `wantSyncId` 0 accepts every sync id (as the kernel's backup with syncid 0).
std::variant<SyncDecoded, SyncDrop> decodeSync(std::span<const std::uint8_t> datagram, std::uint8_t wantSyncId);

// Builds datagrams of at most `maxLen` bytes (and at most 255 entries).
class SyncEncoder {
public:
    SyncEncoder(std::uint8_t syncId, size_t maxLen);
    // False when `c` does not fit: take() the message, then add it again.
    bool add(const SyncConn& c);
    size_t count() const { return count_; }
    bool empty() const { return count_ == 0; }
    // The finished datagram; the encoder starts a new one.
    std::vector<std::uint8_t> take();

private:
    std::uint8_t syncId_;
    size_t maxLen_;
    std::vector<std::uint8_t> buf_;
    size_t count_ = 0;
};

// The entry's length on the wire (without padding).
size_t entrySize(const SyncConn& c);

}  // namespace kmod::sync
