// Claims of addresses by other hosts, for the master's defence of its VIPs (Instance::heardClaim):
// one AF_PACKET socket for ARP on every link, opened while some instance watches. What this host
// sent itself (PACKET_OUTGOING) is no claim; malformed ARP is counted and dropped.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/Log.h"
#include "vrrp/Net.h"

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

class ClaimWatch : public Subscription {
public:
    ClaimWatch(NetHost& host, std::uint64_t id) : host_(host), id_(id) {}
    ~ClaimWatch() override {
        host_.claimWatchers_.erase(id_);
        if (host_.claimWatchers_.empty()) {
            boost::system::error_code ec;
            host_.arp_.close(ec);
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
        readClaims();
    }
    const std::uint64_t id = nextClaimWatcher_++;
    claimWatchers_.emplace(id, std::move(cb));
    return std::make_unique<ClaimWatch>(*this, id);
}

void NetHost::readClaims() {
    arp_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        for (int i = 0; i < 64; ++i) {
            sockaddr_ll from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(arp_.native_handle(), arpBuf_.data(), arpBuf_.size(), MSG_DONTWAIT,
                                         reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (from.sll_pkttype == PACKET_OUTGOING) continue;
            const auto sender = arpSender({arpBuf_.data(), static_cast<size_t>(n)});
            if (!sender) {
                ++arpMalformed_;
                continue;
            }
            const Claim c{from.sll_ifindex, sender->address, sender->mac};
            // a watcher may end its own watch (or another's) from its callback
            std::vector<std::uint64_t> ids;
            for (const auto& [id, f] : claimWatchers_) ids.push_back(id);
            for (auto id : ids)
                if (auto it = claimWatchers_.find(id); it != claimWatchers_.end()) it->second(c);
            if (!arp_.is_open()) return;
        }
        readClaims();
    });
}

}  // namespace vrrp
