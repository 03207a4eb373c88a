// script: a program run without a shell as script_user (or the check's user); exit 0 is up, and
// with dynamic_weight its exit status sets the weight (keepalived's misc_dynamic).
#include "director/checks/CheckKind.h"

#include <unistd.h>

#include "base/PathSecurity.h"
#include "healthcheck/ScriptProbe.h"

namespace director::checks {

namespace {

std::string userOf(const CheckRef& r) { return r.c.user.empty() ? r.cfg.global.scriptUser : r.c.user; }

void scriptKey(std::ostream& k, const CheckRef& r) {
    for (const auto& a : r.c.command.argv) k << '|' << a.size() << ':' << a;
    k << '|' << userOf(r) << '|' << (r.c.timeout ? r.c.timeout->count() : -1) << '|' << r.c.dynamicWeight;
}

std::unique_ptr<healthcheck::Probe> makeScript(asio::io_context& io, const CheckRef& r, std::string& why) {
    healthcheck::ScriptSpec s;
    s.argv = r.c.command.argv;
    s.user = userOf(r);
    s.timeout = micros(r.c.timeout.value_or(r.c.connectTimeout.value_or(r.vs.connectTimeout)));
    s.dynamicWeight = r.c.dynamicWeight;
    s.scriptSecurity = r.cfg.global.scriptSecurity;
    if (::geteuid() == 0) {
        const auto creds = healthcheck::lookupUser(s.user, why);
        if (!creds) return nullptr;
        if (creds->uid == 0 && r.cfg.global.scriptSecurity && !base::commandSafeForRoot(s.argv, why)) return nullptr;
        s.credentials = creds;
    }
    return std::make_unique<healthcheck::ScriptProbe>(io, s);
}

}  // namespace

extern const CheckKind kScript;
const CheckKind kScript{conf::CheckType::Script, scriptKey, makeScript};

}  // namespace director::checks
