// Claims of addresses by other hosts, for the master's defence of its VIPs (Instance::heardClaim):
// two AF_PACKET sockets on every link, opened while some instance watches: one for ARP, one for
// IPv6 whose socket filter passes neighbour advertisements only. What this host sent itself
// (PACKET_OUTGOING) is no claim; malformed ones are counted and dropped.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/Log.h"
#include "vrrp/Net.h"
#include "vrrp/Packet.h"

namespace vrrp {

std::optional<ArpSender> arpSender(std::span<const std::uint8_t> arp) {
    // hardware type, protocol type, their lengths, operation, then sender MAC and IPv4 address,
    // target MAC and IPv4 address (RFC 826)
    constexpr size_t kLength = 28;
    if (arp.size() < kLength) return std::nullopt;
    const auto u16 = [&](size_t at) { return static_cast<std::uint16_t>(arp[at] << 8 | arp[at + 1]); };
    if (u16(0) != 1 || u16(2) != 0x0800 || arp[4] != 6 || arp[5] != 4) return std::nullopt;
    if (u16(6) != 1 && u16(6) != 2) return std::nullopt;
    ArpSender s;
    std::memcpy(s.mac.data(), arp.data() + 8, 6);
    std::uint32_t ip = 0;
    for (size_t i = 14; i < 18; ++i) ip = ip << 8 | arp[i];
    s.address = base::IpAddress::v4(ip);
    return s;
}

std::optional<NaClaim> naClaim(std::span<const std::uint8_t> ip6, const std::array<std::uint8_t, 6>& from) {
    constexpr size_t kHeader = 40, kNa = 24;  // IPv6 header; ICMPv6 type, code, checksum, flags, target
    if (ip6.size() < kHeader + kNa || (ip6[0] >> 4) != 6 || ip6[6] != 58 || ip6[7] != 255) return std::nullopt;
    const size_t payload = static_cast<size_t>(ip6[4] << 8 | ip6[5]);
    if (payload < kNa || kHeader + payload > ip6.size()) return std::nullopt;
    const auto icmp = ip6.subspan(kHeader, payload);
    if (icmp[0] != 136 || icmp[1] != 0) return std::nullopt;
    const auto src = base::IpAddress::fromBytes(base::Family::V6, ip6.data() + 8);
    const auto dst = base::IpAddress::fromBytes(base::Family::V6, ip6.data() + 24);
    if (inetChecksum(icmp, pseudoHeaderSum(src, dst, payload, 58)) != 0) return std::nullopt;
    NaClaim c{base::IpAddress::fromBytes(base::Family::V6, icmp.data() + 8), from};
    if (c.target.isMulticast()) return std::nullopt;
    for (size_t at = kNa; at < icmp.size();) {  // options: type, length in 8 octets, value
        if (icmp.size() - at < 2 || icmp[at + 1] == 0 || icmp.size() - at < size_t{icmp[at + 1]} * 8)
            return std::nullopt;
        if (icmp[at] == 2 && icmp[at + 1] == 1) std::memcpy(c.mac.data(), icmp.data() + at + 2, 6);
        at += size_t{icmp[at + 1]} * 8;
    }
    return c;
}

namespace {
std::optional<Claim> arpClaim(std::span<const std::uint8_t> bytes, int ifindex, const std::array<std::uint8_t, 6>&) {
    const auto sender = arpSender(bytes);
    if (!sender) return std::nullopt;
    return Claim{ifindex, sender->address, sender->mac};
}

std::optional<Claim> ndClaim(std::span<const std::uint8_t> bytes, int ifindex, const std::array<std::uint8_t, 6>& mac) {
    const auto claim = naClaim(bytes, mac);
    if (!claim) return std::nullopt;
    return Claim{ifindex, claim->target, claim->mac};
}
}  // namespace

class ClaimWatch : public Subscription {
public:
    ClaimWatch(NetHost& host, std::uint64_t id) : host_(host), id_(id) {}
    ~ClaimWatch() override {
        host_.claimWatchers_.erase(id_);
        if (host_.claimWatchers_.empty()) {
            boost::system::error_code ec;
            host_.arp_.close(ec);
            host_.na_.close(ec);
        }
    }

private:
    NetHost& host_;
    std::uint64_t id_;
};

std::unique_ptr<Subscription> NetHost::watchClaims(std::function<void(const Claim&)> cb) {
    if (!arp_.is_open()) {
        const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
        if (fd < 0) {
            if (!arpFailedSaid_)
                base::log::warning("vrrp: cannot watch ARP (", std::strerror(errno),
                                   "): a master will not answer another host's claim of its addresses");
            arpFailedSaid_ = true;
            return nullptr;
        }
        arp_.assign(fd);
        readClaims(arp_, arpBuf_, arpClaim);
        openNa();
    }
    const std::uint64_t id = nextClaimWatcher_++;
    claimWatchers_.emplace(id, std::move(cb));
    return std::make_unique<ClaimWatch>(*this, id);
}

// What `sock` received (up to 64 frames a wake-up), each read by `parse`: a claim delivered, or
// counted as malformed.
void NetHost::readClaims(asio::posix::stream_descriptor& sock, std::span<std::uint8_t> buf, ClaimParser parse) {
    sock.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this, &sock, buf, parse](const boost::system::error_code& ec) {
                        if (ec) return;
                        for (int i = 0; i < 64; ++i) {
                            sockaddr_ll from{};
                            socklen_t len = sizeof from;
                            const ssize_t n = ::recvfrom(sock.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT,
                                                         reinterpret_cast<sockaddr*>(&from), &len);
                            if (n < 0) {
                                if (errno == EINTR) continue;
                                break;
                            }
                            if (from.sll_pkttype == PACKET_OUTGOING) continue;
                            std::array<std::uint8_t, 6> mac{};
                            if (from.sll_halen == 6) std::memcpy(mac.data(), from.sll_addr, 6);
                            const auto claim = parse({buf.data(), static_cast<size_t>(n)}, from.sll_ifindex, mac);
                            if (!claim) {
                                ++claimsMalformed_;
                                continue;
                            }
                            deliverClaim(*claim);
                            if (!sock.is_open()) return;
                        }
                        readClaims(sock, buf, parse);
                    });
}

// IPv6: every IPv6 frame would reach a plain ETH_P_IPV6 socket, so a classic BPF filter passes only
// ICMPv6 (next header 58, no extension headers) of type 136; the socket takes nothing until bound,
// after the filter is on.
void NetHost::openNa() {
    const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return;
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 40), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),      BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_IPV6);
    if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
        base::log::warning("vrrp: cannot watch IPv6 neighbour advertisements (", std::strerror(errno),
                           "): a master will not answer another host's claim of its IPv6 addresses");
        ::close(fd);
        return;
    }
    na_.assign(fd);
    readClaims(na_, naBuf_, ndClaim);
}

void NetHost::deliverClaim(const Claim& c) {
    // a watcher may end its own watch (or another's) from its callback
    std::vector<std::uint64_t> ids;
    for (const auto& [id, f] : claimWatchers_) ids.push_back(id);
    for (auto id : ids)
        if (auto it = claimWatchers_.find(id); it != claimWatchers_.end()) it->second(c);
}

}  // namespace vrrp
