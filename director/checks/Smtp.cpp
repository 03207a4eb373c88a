// smtp (keepalived's SMTP_CHECK): greeting 220, HELO answered 250, QUIT (healthcheck/SmtpProbe.h).
#include "director/checks/CheckKind.h"
#include "healthcheck/SmtpProbe.h"

namespace director::checks {

extern const CheckKind kSmtp;
const CheckKind kSmtp{
    conf::CheckType::Smtp,
    [](std::ostream& k, const CheckRef& r) {
        k << " helo=" << r.c.heloName;
        if (r.c.readTimeout) k << " read=" << micros(*r.c.readTimeout).count();
    },
    [](asio::io_context& io, const CheckRef& r, std::string&) -> std::unique_ptr<healthcheck::Probe> {
        healthcheck::SmtpSpec s;
        s.target = tcpTarget(r);
        s.helo = r.c.heloName;
        s.readTimeout = r.c.readTimeout ? micros(*r.c.readTimeout) : s.target.connectTimeout;
        return std::make_unique<healthcheck::SmtpProbe>(io, std::move(s));
    },
};

}  // namespace director::checks
