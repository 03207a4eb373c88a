// ServerRef: the real server an operator names on directorctl's command line (disable, enable),
// found in the running config. A virtual server is written as directorctl shows it:
// "10.0.0.1:80/tcp", "10.0.0.1:80" (when one protocol has that address and port),
// "[2001:db8::1]:80/udp", "fwmark:5" (or "fwmark 5"); a real server as "10.0.1.5:8080",
// "[2001:db8::5]:80", or its bare address when only one of that service's has it. Pure.
#pragma once
#include <optional>
#include <string>

#include "conf/Config.h"

namespace director::lvs {

struct ServerRef {
    const conf::VirtualServer* vs = nullptr;
    const conf::RealServer* rs = nullptr;
};

// nullopt, with `error` saying what was not found (and what there is), when the names match nothing
// or more than one.
std::optional<ServerRef> findServer(const conf::Config& cfg, const std::string& vsText, const std::string& rsText,
                                    std::string& error);

}  // namespace director::lvs
