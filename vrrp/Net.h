// The real I/O of a VRRP instance: a raw IP protocol 112 socket on one interface, IPv4 (multicast
// 224.0.0.18 or unicast peers, TTL 255, TOS 0xc0 as keepalived) or IPv6 (ff02::12 or unicast, hop
// limit 255, from the interface's link-local address), the virtual addresses through rtnetlink
// (libnl-route-3), gratuitous ARP requests on a packet socket and unsolicited neighbour
// advertisements, both as whole frames on a packet socket.
#pragma once
#include <map>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "base/Asio.h"
#include "base/IpAddress.h"
#include "vrrp/Host.h"
#include "vrrp/LinkWatcher.h"

struct nl_sock;
namespace kmod::nftables {
class Nft;
}

namespace vrrp {

// The announcement frames (Ethernet included), pure: keepalived's gratuitous ARP request and
// unsolicited neighbour advertisement (Override; Router when the interface forwards IPv6).
std::vector<std::uint8_t> gratuitousArpFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip);
std::vector<std::uint8_t> unsolicitedNaFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip,
                                             bool router);

// The sender of an Ethernet/IPv4 ARP request or reply (`arp` from the ARP header on); nullopt for
// anything else (short, another hardware or protocol type or length, another operation). An RFC 5227
// probe's sender is 0.0.0.0.
struct ArpSender {
    std::array<std::uint8_t, 6> mac{};
    base::IpAddress address;
};
std::optional<ArpSender> arpSender(std::span<const std::uint8_t> arp);

// The claim in a neighbour advertisement (`ip6`: the IPv6 packet, no extension headers): its target,
// and the MAC its target link-layer address option gives (`from`, the frame's source, without one);
// nullopt for anything else or anything RFC 4861 7.1.2 rejects (hop limit not 255, code not 0, a bad
// checksum, short, an option of length 0).
struct NaClaim {
    base::IpAddress target;
    std::array<std::uint8_t, 6> mac{};
};
std::optional<NaClaim> naClaim(std::span<const std::uint8_t> ip6, const std::array<std::uint8_t, 6>& from);

// /proc/sys/net/{ipv4,ipv6}/conf/LINK/PARAM as a number; -1 when it cannot be read.
int readSysctl(bool v6, const std::string& link, const char* param);

// How many of the rtnetlink messages in `bytes` delete a route or rule of ours (protocol 18).
int ownRouteDeletions(std::span<const std::uint8_t> bytes);

// Removes `instances`' virtual and excluded addresses from their interfaces (what a vrrp worker that
// died as their master left configured); how many it removed. Addresses not there are no error;
// `failed` lists those the kernel refused.
int removeInstanceAddresses(const std::vector<conf::VrrpInstance>& instances, std::string& failed);

class RawSocket : public Transport {
public:
    explicit RawSocket(asio::io_context& io) : sock_(io) {}
    ~RawSocket() override { close(); }
    std::error_code open(const Spec& spec) override;
    std::error_code send(std::span<const std::uint8_t> vrrp, const base::IpAddress& dst,
                         const std::optional<base::IpAddress>& src) override;
    void receive(std::function<void(const Received&)> cb) override;
    void close() override;

private:
    void readLoop();
    asio::posix::stream_descriptor sock_;
    base::Family family_ = base::Family::V4;
    int ifindex_ = 0;
    std::function<void(const Received&)> onPacket_;
    std::array<std::uint8_t, 2048> buf_{};
};

// The machine for real: links and addresses from a LinkWatcher (rtnetlink events, no syscall per
// look-up), addresses changed through libnl-route (each call waits at most 500 ms for the
// kernel's answer), announcements as whole frames on a packet socket, raw-socket transports.
class NetHost : public Host {
public:
    explicit NetHost(asio::io_context& io);
    ~NetHost() override;
    NetHost(const NetHost&) = delete;
    NetHost& operator=(const NetHost&) = delete;
    // False (after logging) when rtnetlink is not there.
    bool start() {
        watchRoutes();
        return watcher_.start();
    }
    LinkWatcher& watcher() { return watcher_; }

    std::optional<InterfaceInfo> interfaceInfo(const std::string& name,
                                               const std::vector<base::IpAddress>& notThese) override;
    bool linkUp(const std::string& name) override;
    int ifindex(const std::string& name) override { return watcher_.index(name); }
    std::error_code addAddress(int ifindex, const base::IpPrefix& p, const std::string& label,
                               const std::string& scope) override;
    std::error_code removeAddress(int ifindex, const base::IpPrefix& p) override;
    bool hasAddress(int ifindex, const base::IpAddress& a) override { return watcher_.has(ifindex, a); }
    std::error_code announce(const InterfaceInfo& ifc, const base::IpAddress& vip) override;
    std::unique_ptr<Transport> transport() override { return std::make_unique<RawSocket>(io_); }
    std::unique_ptr<Subscription> watchClaims(std::function<void(const Claim&)> cb) override;  // ArpWatch.cpp
    std::uint64_t claimsMalformed() const { return claimsMalformed_; }
    std::error_code addRoute(const conf::VirtualRoute& r, int ifindex) override;
    std::error_code addRule(const conf::VirtualRule& r) override;
    std::error_code removeRule(const conf::VirtualRule& r) override;
    std::error_code removeRoute(const conf::VirtualRoute& r, int ifindex) override;
    std::uint64_t routeDeletions() const override { return routeDeletions_; }  // RouteWatch.cpp
    bool restoreRoute(const conf::VirtualRoute& r, int ifindex) override;
    bool restoreRule(const conf::VirtualRule& r) override;
    VmacResult ensureVmac(const VmacSpec& spec) override;  // Vmac.cpp
    void removeVmac(const VmacSpec& spec) override;
    std::error_code blockAddresses(const std::string& instance, const std::vector<base::IpAddress>& addresses) override;

private:
    // VMACs (Vmac.cpp)
    void clearRpFilter();
    void restoreRpFilter();
    void vmacFilters();
    struct Saved {  // a parent's ARP settings before the first IPv4 VMAC on it (-1: unknown)
        int arpIgnore = -1, arpFilter = -1, arpAnnounce = -1;
    };
    struct Vmac {
        std::string parent;
        base::Family family = base::Family::V4;
    };
    std::map<std::string, Saved> parents_;
    std::map<std::string, Vmac> vmacs_;  // ours, by name
    bool rpCleared_ = false;
    std::optional<int> rpAll_, rpDefault_;
    std::map<std::string, int> rpRaised_;
    std::map<std::string, std::vector<base::IpAddress>> blocked_;  // no_accept: by instance
    kmod::nftables::Nft& nft();
    std::unique_ptr<kmod::nftables::Nft> nft_;
    bool nftWarned_ = false;
    asio::io_context& io_;
    LinkWatcher watcher_;
    nl_sock* sock_ = nullptr;
    int packet_ = -1;  // AF_PACKET, protocol 0: sends whole frames, receives nothing
    // ArpWatch.cpp: one packet socket for ARP on every link while any instance watches (after io_)
    friend class ClaimWatch;
    using ClaimParser = std::optional<Claim> (*)(std::span<const std::uint8_t>, int ifindex,
                                                 const std::array<std::uint8_t, 6>& from);
    void readClaims(asio::posix::stream_descriptor& sock, std::span<std::uint8_t> buf, ClaimParser parse);
    void openNa();
    void deliverClaim(const Claim& c);
    std::map<std::uint64_t, std::function<void(const Claim&)>> claimWatchers_;
    std::uint64_t nextClaimWatcher_ = 1;
    asio::posix::stream_descriptor arp_{io_};
    asio::posix::stream_descriptor na_{io_};  // IPv6: neighbour advertisements only (a socket filter)
    std::array<std::uint8_t, 1280> naBuf_{};
    std::array<std::uint8_t, 256> arpBuf_{};
    std::uint64_t claimsMalformed_ = 0;
    bool arpFailedSaid_ = false;
    // RouteWatch.cpp (after io_: it is made from it)
    void watchRoutes();
    void readRouteEvents();
    asio::posix::stream_descriptor routeEvents_{io_};
    std::array<std::uint8_t, 65536> routeBuf_{};
    std::uint64_t routeDeletions_ = 0;
};

}  // namespace vrrp
