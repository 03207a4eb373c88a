// Maps socket errors to probe failure reasons (shared by the TCP, HTTP and TLS probes).
#pragma once
#include <boost/system/error_code.hpp>

#include "healthcheck/ProbeResult.h"

namespace healthcheck {

ProbeResult fromSocketError(const boost::system::error_code& ec);

}  // namespace healthcheck
