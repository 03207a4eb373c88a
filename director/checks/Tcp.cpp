// tcp: a connection to the real server (or connect_ip:connect_port) within connect_timeout.
#include "director/checks/CheckKind.h"

namespace director::checks {

extern const CheckKind kTcp;
const CheckKind kTcp{
    conf::CheckType::Tcp,
    [](std::ostream&, const CheckRef&) {},  // the target and timing are all of it
    [](asio::io_context& io, const CheckRef& r, std::string&) -> std::unique_ptr<healthcheck::Probe> {
        return std::make_unique<healthcheck::TcpProbe>(io, tcpTarget(r));
    },
};

}  // namespace director::checks
