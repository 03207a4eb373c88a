// libFuzzer: the VRRP decoder (v2, v3, IPv4 and IPv6 checksums), the AH opener and the ARP reader
// of the claim watch take any bytes.
#include <cstdint>

#include "vrrp/Ah.h"
#include "vrrp/Net.h"
#include "vrrp/Packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    static const auto src4 = *base::IpAddress::parse("10.0.0.1"), dst4 = *base::IpAddress::parse("224.0.0.18");
    static const auto src6 = *base::IpAddress::parse("fe80::1"), dst6 = *base::IpAddress::parse("ff02::12");
    std::span<const std::uint8_t> in(data, size);
    (void)vrrp::decode(in, src4, dst4);
    (void)vrrp::decode(in, src6, dst6);
    static const auto key = vrrp::ahKey("secret");
    auto opened = vrrp::ahOpen(in, key);
    if (auto* o = std::get_if<vrrp::AhOpened>(&opened)) (void)vrrp::decode(o->vrrp, src4, dst4);
    (void)vrrp::arpSender(in);
    (void)vrrp::naClaim(in, {});
    return 0;
}
