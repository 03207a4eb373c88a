#include "healthcheck/SocketErrors.h"

#include <cerrno>

#include "base/Asio.h"

namespace healthcheck {

ProbeResult fromSocketError(const boost::system::error_code& ec) {
    if (ec == asio::error::eof) return ProbeResult::fail(Failure::Closed);
    if (ec.category() != boost::system::system_category()) return ProbeResult::fail(Failure::Error, EIO);
    switch (ec.value()) {
    case ECONNREFUSED: return ProbeResult::fail(Failure::Refused);
    case ETIMEDOUT: return ProbeResult::fail(Failure::Timeout);
    case ECONNRESET:
    case EPIPE: return ProbeResult::fail(Failure::Reset);
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL: return ProbeResult::fail(Failure::Unreachable, ec.value());
    default: return ProbeResult::fail(Failure::Error, ec.value());
    }
}

}  // namespace healthcheck
