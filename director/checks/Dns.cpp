// dns (keepalived's DNS_CHECK): a query for query_name / query_type over UDP; up on an answer to
// it with RCODE NOERROR (healthcheck/Dns.h).
#include "director/checks/CheckKind.h"
#include "healthcheck/Dns.h"

namespace director::checks {

extern const CheckKind kDns;
const CheckKind kDns{
    conf::CheckType::Dns,
    [](std::ostream& k, const CheckRef& r) { k << " name=" << r.c.queryName << " qtype=" << r.c.queryType; },
    [](asio::io_context& io, const CheckRef& r, std::string& why) -> std::unique_ptr<healthcheck::Probe> {
        const auto type = healthcheck::dns::typeCode(r.c.queryType);
        if (!type) {
            why = "unknown DNS record type " + r.c.queryType;
            return nullptr;
        }
        return std::make_unique<healthcheck::DnsProbe>(io, udpTarget(r), r.c.queryName, *type);
    },
};

}  // namespace director::checks
