// ping (keepalived's PING_CHECK): an ICMP/ICMPv6 echo to the real server's address (or connect_ip)
// within connect_timeout, over the loop's shared raw socket (healthcheck/PingProbe.h).
#include "base/AsioAddress.h"
#include "director/checks/CheckKind.h"
#include "healthcheck/PingProbe.h"

namespace director::checks {

extern const CheckKind kPing;
const CheckKind kPing{
    conf::CheckType::Ping,
    [](std::ostream&, const CheckRef&) {},  // the target and timing are all of it
    [](asio::io_context& io, const CheckRef& r, std::string&) -> std::unique_ptr<healthcheck::Probe> {
        const base::IpAddress addr = r.c.connectIp.value_or(r.rs.address);
        return std::make_unique<healthcheck::PingProbe>(io, base::toAsio(addr),
                                                        micros(r.c.connectTimeout.value_or(r.vs.connectTimeout)));
    },
    true,
};

}  // namespace director::checks
