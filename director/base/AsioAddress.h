// Conversions between base::IpAddress and Asio's addresses, without a text round trip.
#pragma once
#include <algorithm>

#include "base/Asio.h"
#include "base/IpAddress.h"

namespace base {

inline asio::ip::address toAsio(const IpAddress& a) {
    if (a.isV4()) return asio::ip::address_v4(a.v4HostOrder());
    asio::ip::address_v6::bytes_type b;
    std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
    return asio::ip::address_v6(b);
}

inline IpAddress fromAsio(const asio::ip::address& a) {
    return a.is_v4() ? IpAddress::v4(a.to_v4().to_uint())
                     : IpAddress::fromBytes(Family::V6, a.to_v6().to_bytes().data());
}

}  // namespace base
