// SocketSource: where a check's packets come from (keepalived's bindto, bind_port, bind_if and
// fwmark), applied to a socket before it connects. Shared by the TCP-based checks (Connector) and
// the UDP-based ones (DatagramExchange).
#pragma once
#include <net/if.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/Asio.h"

namespace healthcheck {

struct SocketSource {
    std::optional<asio::ip::address> address;  // none: the kernel's choice
    std::uint16_t port = 0;                    // 0: an ephemeral port
    std::string interface;                     // SO_BINDTODEVICE; empty: none
    std::uint32_t fwmark = 0;                  // SO_MARK; 0: none
};

// On an open socket: the mark, the device, then a bind when an address or a port is asked (with
// SO_REUSEADDR, so checks from one fixed port to several servers can run at once). A link-local
// IPv6 target without a scope gets the interface's. The first error stops it.
template <class Endpoint>
void applySource(int fd, const SocketSource& src, Endpoint& target, boost::system::error_code& ec) {
    auto fail = [&ec] { ec = boost::system::error_code(errno, boost::system::system_category()); };
    if (src.fwmark && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &src.fwmark, sizeof src.fwmark) != 0) return fail();
    if (!src.interface.empty()) {
        if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, src.interface.c_str(),
                         static_cast<socklen_t>(src.interface.size() + 1)) != 0)
            return fail();
        auto a = target.address();
        if (a.is_v6() && a.to_v6().is_link_local() && a.to_v6().scope_id() == 0) {
            auto v6 = a.to_v6();
            v6.scope_id(::if_nametoindex(src.interface.c_str()));
            target.address(v6);
        }
    }
    if (!src.address && !src.port) return;
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail();
    const asio::ip::address any = target.address().is_v6() ? asio::ip::address(asio::ip::address_v6::any())
                                                            : asio::ip::address(asio::ip::address_v4::any());
    const Endpoint local(src.address.value_or(any), src.port);
    if (::bind(fd, local.data(), static_cast<socklen_t>(local.size())) != 0) return fail();
}

template <class Socket>
void applySource(Socket& s, const SocketSource& src, typename Socket::endpoint_type& target,
                 boost::system::error_code& ec) {
    applySource(s.native_handle(), src, target, ec);
}

}  // namespace healthcheck
