// What a VRRP instance needs from the machine, as two narrow interfaces (docs/ARCHITECTURE.md,
// seams): a Transport for its adverts, and a Host for links, addresses and announcements. The
// real ones are raw sockets, rtnetlink and packet sockets (NetHost, Net.h); the unit tests give
// instances a simulated LAN instead (tests/unit/vrrp/SimLan.h), with the manual clock.
#pragma once
#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "base/IpAddress.h"
#include "conf/Config.h"

namespace vrrp {

struct InterfaceInfo {
    int index = 0;
    std::array<std::uint8_t, 6> mac{};
    std::optional<base::IpAddress> primaryV4;    // the first IPv4 address that is not a virtual one
    std::optional<base::IpAddress> linkLocalV6;  // fe80::/10, not tentative (DAD done)
    bool forwardsV6 = false;                     // IPv6 forwarding on: neighbour advertisements carry the Router flag
};

// One received packet. `payload` follows the IP header; `datagram` is the whole IPv4 packet
// (empty for IPv6, whose raw sockets give no header).
struct Received {
    base::IpAddress src, dst;
    int ttl = 0;
    std::span<const std::uint8_t> payload;
    std::span<const std::uint8_t> datagram;
    bool truncated = false;  // longer than the receive buffer
};

class Transport {
public:
    virtual ~Transport() = default;
    struct Spec {
        std::string interface;
        int ifindex = 0;
        base::Family family = base::Family::V4;
        bool multicast = true;  // join 224.0.0.18 / ff02::12 (false: unicast peers only)
        bool ah = false;        // IPv4 protocol 51 with IP_HDRINCL: send() takes whole packets
        int ttl = 255;          // TTL / hop limit of what it sends (unicast_ttl; multicast always 255)
    };
    virtual std::error_code open(const Spec& spec) = 0;
    virtual std::error_code send(std::span<const std::uint8_t> bytes, const base::IpAddress& dst,
                                 const std::optional<base::IpAddress>& src) = 0;
    virtual void receive(std::function<void(const Received&)> onPacket) = 0;
    virtual void close() = 0;
};

// Another host's claim of an address: an ARP request or reply it sent with `address` as its sender
// address, or (IPv6) a neighbour advertisement for `address`, as received on link `ifindex`, for
// hardware address `mac` (what this host sent is none).
struct Claim {
    int ifindex = 0;
    base::IpAddress address;
    std::array<std::uint8_t, 6> mac{};
};

// aa:bb:cc:dd:ee:ff
inline std::string macText(const std::array<std::uint8_t, 6>& mac) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return b;
}

// What a watch returns: the watch lasts as long as it does.
class Subscription {
public:
    virtual ~Subscription() = default;
};

// keepalived's use_vmac: a private-mode macvlan `name` of `parent` whose MAC is `mac`, up, with the
// settings keepalived gives it (ARP answered only for its own addresses, no reverse-path filter;
// the parent answers ARP only for its own; IPv4 instances: no IPv6 on it). IPv6 instances that send
// from it: `linkLocal` on it (no address generated from the MAC, RFC 5798 7.4).
struct VmacSpec {
    std::string name, parent;
    std::array<std::uint8_t, 6> mac{};
    base::Family family = base::Family::V4;
    std::optional<base::IpAddress> linkLocal;
};

struct VmacResult {
    std::error_code error;
    int ifindex = 0;
    bool created = false;  // false: it was there as it should be (a restarted worker finds its own)
};

class Host {
public:
    virtual ~Host() = default;
    virtual std::optional<InterfaceInfo> interfaceInfo(const std::string& name,
                                                       const std::vector<base::IpAddress>& notThese) = 0;
    // Up and running (IFF_UP and IFF_RUNNING: carrier); false for a link that does not exist.
    virtual bool linkUp(const std::string& name) = 0;
    virtual int ifindex(const std::string& name) = 0;  // 0: no such link
    // EEXIST / EADDRNOTAVAIL are not errors (already there / already gone).
    virtual std::error_code addAddress(int ifindex, const base::IpPrefix& p, const std::string& label,
                                       const std::string& scope) = 0;
    virtual std::error_code removeAddress(int ifindex, const base::IpPrefix& p) = 0;
    virtual bool hasAddress(int ifindex, const base::IpAddress& a) = 0;
    // A gratuitous ARP (IPv4) or an unsolicited neighbour advertisement (IPv6) for `vip`.
    virtual std::error_code announce(const InterfaceInfo& ifc, const base::IpAddress& vip) = 0;
    virtual std::unique_ptr<Transport> transport() = 0;
    // Claims of addresses heard on any link go to `cb` while the subscription lives; nullptr when
    // this host cannot watch (no packet socket: logged; a test's host without it).
    virtual std::unique_ptr<Subscription> watchClaims(std::function<void(const Claim&)> /*cb*/) { return nullptr; }
    // use_vmac: make the macvlan as `spec` says (a wrong one of that name is replaced; an interface
    // of that name that is no macvlan is an error), and remove it (and undo the parent's settings
    // once its last one is gone). A host without macvlans (a test's) says so.
    virtual VmacResult ensureVmac(const VmacSpec&) {
        return {std::make_error_code(std::errc::operation_not_supported), 0, false};
    }
    virtual void removeVmac(const VmacSpec&) {}
    // accept_mode = false (keepalived's no_accept, RFC 5798 Accept_Mode): while `instance` is master
    // its `addresses` take no traffic (dropped in and out, IPv6 neighbour discovery excepted); an
    // empty list lifts it. A host without a firewall (a test's) says so.
    virtual std::error_code blockAddresses(const std::string& /*instance*/,
                                           const std::vector<base::IpAddress>& /*addresses*/) {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    // virtual_routes (`ifindex` 0: no device). Adding one that is there, or removing one that is
    // gone, is no error. A host without routes (a test's) says so.
    virtual std::error_code addRoute(const conf::VirtualRoute&, int /*ifindex*/) {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    virtual std::error_code removeRoute(const conf::VirtualRoute&, int /*ifindex*/) {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    // Deletions of our routes and rules seen so far (a counter: whoever keeps some present compares
    // it with the last value it saw), and adding one back only if it is missing (true: it was).
    virtual std::uint64_t routeDeletions() const { return 0; }
    virtual bool restoreRoute(const conf::VirtualRoute&, int /*ifindex*/) { return false; }
    virtual bool restoreRule(const conf::VirtualRule&) { return false; }
    // virtual_rules / static_rules: the same (one that is there, or gone, is no error).
    virtual std::error_code addRule(const conf::VirtualRule&) {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    virtual std::error_code removeRule(const conf::VirtualRule&) {
        return std::make_error_code(std::errc::operation_not_supported);
    }
};

}  // namespace vrrp
