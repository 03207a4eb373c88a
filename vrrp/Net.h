// The real I/O of a VRRP instance over IPv4: a raw IP protocol 112 socket on one interface
// (multicast 224.0.0.18 or unicast peers, TTL 255, TOS 0xc0 as keepalived), the virtual addresses
// through rtnetlink (libnl-route-3), and gratuitous ARP requests on a packet socket.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "director/base/Asio.h"
#include "director/base/IpAddress.h"

struct nl_sock;

namespace vrrp {

struct InterfaceInfo {
    int index = 0;
    std::array<std::uint8_t, 6> mac{};
    std::optional<base::IpAddress> primaryV4;  // the first IPv4 address that is not a virtual one
};
std::optional<InterfaceInfo> interfaceInfo(const std::string& name, const std::vector<base::IpAddress>& notThese = {});
// Up and running (IFF_UP and IFF_RUNNING: carrier); false for a link that does not exist.
bool linkUp(const std::string& name);

class RawSocket {
public:
    using OnPacket = std::function<void(const base::IpAddress& src, const base::IpAddress& dst, int ttl,
                                        std::span<const std::uint8_t> vrrp)>;
    explicit RawSocket(asio::io_context& io) : sock_(io) {}
    // Joins 224.0.0.18 on the interface unless `multicast` is false (unicast peers only).
    std::error_code open(const std::string& interface, int ifindex, bool multicast);
    std::error_code send(std::span<const std::uint8_t> vrrp, const base::IpAddress& dst, const std::optional<base::IpAddress>& src);
    void receive(OnPacket cb);
    void close();

private:
    void readLoop();
    asio::posix::stream_descriptor sock_;
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
    std::error_code gratuitousArp(const InterfaceInfo& ifc, const base::IpAddress& vip);

private:
    nl_sock* sock_ = nullptr;
    int packet_ = -1;
};

}  // namespace vrrp
