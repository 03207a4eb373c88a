// The real I/O of a VRRP instance: a raw IP protocol 112 socket on one interface, IPv4 (multicast
// 224.0.0.18 or unicast peers, TTL 255, TOS 0xc0 as keepalived) or IPv6 (ff02::12 or unicast, hop
// limit 255, from the interface's link-local address), the virtual addresses through rtnetlink
// (libnl-route-3), gratuitous ARP requests on a packet socket and unsolicited neighbour
// advertisements, both as whole frames on a packet socket.
#pragma once
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

struct nl_sock;

namespace vrrp {

struct InterfaceInfo {
    int index = 0;
    std::array<std::uint8_t, 6> mac{};
    std::optional<base::IpAddress> primaryV4;    // the first IPv4 address that is not a virtual one
    std::optional<base::IpAddress> linkLocalV6;  // fe80::/10, not tentative (DAD done)
    bool forwardsV6 = false;                     // IPv6 forwarding on: neighbour advertisements carry the Router flag
};
// The interface's usable link-local IPv6 address (VRRPv3 over IPv6 is sent from it).
std::optional<base::IpAddress> linkLocal(const std::string& name);
std::optional<InterfaceInfo> interfaceInfo(const std::string& name, const std::vector<base::IpAddress>& notThese = {});
// Up and running (IFF_UP and IFF_RUNNING: carrier); false for a link that does not exist.
bool linkUp(const std::string& name);

// The announcement frames (Ethernet included), pure: keepalived's gratuitous ARP request and
// unsolicited neighbour advertisement (Override; Router when the interface forwards IPv6).
std::vector<std::uint8_t> gratuitousArpFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip);
std::vector<std::uint8_t> unsolicitedNaFrame(const std::array<std::uint8_t, 6>& mac, const base::IpAddress& vip,
                                             bool router);

class RawSocket {
public:
    // `payload` follows the IP header; `datagram` is the whole IPv4 packet (empty for IPv6).
    using OnPacket = std::function<void(const base::IpAddress& src, const base::IpAddress& dst, int ttl,
                                        std::span<const std::uint8_t> payload, std::span<const std::uint8_t> datagram)>;
    explicit RawSocket(asio::io_context& io) : sock_(io) {}
    // Joins 224.0.0.18 / ff02::12 on the interface unless `multicast` is false (unicast peers only).
    // `ah`: IPv4 protocol 51 with IP_HDRINCL, send() takes whole packets (Ah.h).
    std::error_code open(const std::string& interface, int ifindex, base::Family family, bool multicast,
                         bool ah = false);
    std::error_code send(std::span<const std::uint8_t> vrrp, const base::IpAddress& dst,
                         const std::optional<base::IpAddress>& src);
    void receive(OnPacket cb);
    void close();

private:
    void readLoop();
    asio::posix::stream_descriptor sock_;
    base::Family family_ = base::Family::V4;
    int ifindex_ = 0;
    OnPacket onPacket_;
    std::array<std::uint8_t, 2048> buf_{};
};

// Adds and removes addresses on interfaces; sends gratuitous ARPs.
class VipManager {
public:
    VipManager();
    ~VipManager();
    VipManager(const VipManager&) = delete;
    VipManager& operator=(const VipManager&) = delete;
    // EEXIST / EADDRNOTAVAIL are not errors here (already there / already gone).
    std::error_code add(int ifindex, const base::IpPrefix& p, const std::string& label, const std::string& scope);
    std::error_code remove(int ifindex, const base::IpPrefix& p);
    bool present(int ifindex, const base::IpAddress& a);
    // A gratuitous ARP (IPv4) or an unsolicited neighbour advertisement (IPv6) for `vip`.
    std::error_code announce(const InterfaceInfo& ifc, const base::IpAddress& vip);

private:
    std::error_code gratuitousArp(const InterfaceInfo& ifc, const base::IpAddress& vip);
    std::error_code unsolicitedNa(const InterfaceInfo& ifc, const base::IpAddress& vip);
    nl_sock* sock_ = nullptr;
    int packet_ = -1;  // AF_PACKET, protocol 0: sends whole frames, receives nothing
};

}  // namespace vrrp
