// LinkWatcher: the machine's links and addresses as rtnetlink reports them, kept current from the
// kernel's events (RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR) instead of asking with
// getifaddrs/ioctl every time: the VRRP loop's 200 ms checks read memory, never block. It dumps
// links and addresses once at start (and again when the kernel says events were lost).
// parseRtnetlink() is the pure part: bytes in, link and address events out.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "base/IpAddress.h"

namespace vrrp {

struct LinkEvent {
    bool removed = false;
    int index = 0;
    std::string name;
    unsigned flags = 0;  // IFF_*
    std::array<std::uint8_t, 6> mac{};
};

struct AddressEvent {
    bool removed = false;
    int index = 0;
    base::IpAddress address;
    int prefix = 0;
    unsigned flags = 0;  // IFA_F_* (the 32-bit IFA_FLAGS when present)
    std::string label;
};

struct RtnetlinkEvents {
    std::vector<LinkEvent> links;
    std::vector<AddressEvent> addresses;
    int ownRouteDeletions = 0;  // RTM_DELROUTE / RTM_DELRULE of protocol 18 (ours, keepalived's)
    bool done = false;  // NLMSG_DONE: the end of a dump
    int error = 0;      // an NLMSG_ERROR's errno (0: none)
};
// Parses one datagram of rtnetlink messages; what it cannot read it skips.
RtnetlinkEvents parseRtnetlink(std::span<const std::uint8_t> bytes);

class LinkWatcher {
public:
    explicit LinkWatcher(asio::io_context& io) : sock_(io) {}
    ~LinkWatcher();
    // Opens the socket, subscribes and dumps; false (after logging) when rtnetlink is not there.
    bool start();

    struct Link {
        std::string name;
        unsigned flags = 0;
        std::array<std::uint8_t, 6> mac{};
    };
    struct Address {
        base::IpAddress address;
        int prefix = 0;
        unsigned flags = 0;
        std::string label;
    };
    // 0 when there is no such link (names match exactly: "eth1" is not "eth10").
    int index(const std::string& name) const;
    const Link* link(int index) const;
    // In the kernel's order (the first IPv4 one is the primary).
    const std::vector<Address>& addresses(int index) const;
    bool has(int index, const base::IpAddress& a) const;
    // Called after every batch of changes.
    void onChange(std::function<void()> f) { onChange_ = std::move(f); }

    // Applies events (the watcher's own reading, and tests).
    void apply(const RtnetlinkEvents& e);
    // What we just did ourselves (added or removed an address), before the kernel's event says so.
    void note(int index, const base::IpPrefix& p, bool present);

private:
    bool dump(std::uint16_t type);
    void readMore();
    asio::posix::stream_descriptor sock_;
    std::array<std::uint8_t, 65536> buf_{};
    std::map<int, Link> links_;
    std::map<int, std::vector<Address>> addresses_;
    std::function<void()> onChange_;
    std::uint32_t seq_ = 1;
};

}  // namespace vrrp
