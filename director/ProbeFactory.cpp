#include "director/ProbeFactory.h"

#include "base/AsioAddress.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/PathSecurity.h"
#include "healthcheck/HttpProbe.h"
#include "healthcheck/ScriptProbe.h"
#include "healthcheck/TcpProbe.h"

namespace director {
namespace {

std::chrono::microseconds micros(base::Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); }

healthcheck::TcpTarget tcpTarget(const conf::VirtualServer& vs, const conf::RealServer& rs,
                                 const conf::CheckConfig& c) {
    healthcheck::TcpTarget t;
    const base::IpAddress addr = c.connectIp.value_or(rs.address);
    const int port = c.connectPort.value_or(rs.port);
    t.endpoint = asio::ip::tcp::endpoint(base::toAsio(addr), static_cast<std::uint16_t>(port));
    if (c.bindIp) t.bind = base::toAsio(*c.bindIp);
    t.connectTimeout = micros(c.connectTimeout.value_or(vs.connectTimeout));
    return t;
}

}  // namespace

healthcheck::CheckTiming checkTiming(const conf::VirtualServer& vs, const conf::CheckConfig& c) {
    healthcheck::CheckTiming t;
    t.interval = c.delayLoop.value_or(vs.delayLoop);
    t.retryDelay = c.delayBeforeRetry.value_or(vs.delayBeforeRetry);
    t.warmup = c.warmup.value_or(vs.warmup);
    t.retries = c.retry.value_or(vs.retry);
    t.rise = c.rise;
    t.fall = c.fall;
    t.startDown = vs.alpha;
    return t;
}

std::string checkKey(const conf::Config& cfg, const conf::VirtualServer& vs, const conf::RealServer& rs,
                     const conf::CheckConfig& c) {
    std::ostringstream k;
    const auto t = checkTiming(vs, c);
    k << conf::name(c.type) << '|' << c.connectIp.value_or(rs.address).str() << '|' << c.connectPort.value_or(rs.port)
      << '|' << (c.bindIp ? c.bindIp->str() : "") << '|' << c.connectTimeout.value_or(vs.connectTimeout).count() << '|'
      << t.interval.count() << '|' << t.retryDelay.count() << '|' << t.warmup.count() << '|' << t.retries << '|'
      << t.rise << '|' << t.fall << '|' << t.startDown;
    if (c.type == conf::CheckType::Http || c.type == conf::CheckType::Https) {
        k << '|' << c.path << '|' << (c.virtualhost.empty() ? vs.virtualhost : c.virtualhost) << '|' << c.httpVersion;
        for (const auto& r : c.statusCodes) k << '|' << r.low << '-' << r.high;
        k << '|' << c.digest << '|' << c.regex << '|' << c.regexNoMatch << '|' << c.maxBody << '|'
          << (c.readTimeout ? c.readTimeout->count() : -1) << '|' << c.sni << '|' << c.verify << '|' << c.caFile << '|'
          << c.certFile << '|' << c.keyFile;
    }
    if (c.type == conf::CheckType::Script) {
        for (const auto& a : c.command.argv) k << '|' << a.size() << ':' << a;
        k << '|' << (c.user.empty() ? cfg.global.scriptUser : c.user) << '|' << (c.timeout ? c.timeout->count() : -1)
          << '|' << c.dynamicWeight;
    }
    return k.str();
}

std::unique_ptr<healthcheck::Probe> AsioProbeFactory::make(const conf::Config& cfg, const conf::VirtualServer& vs,
                                                           const conf::RealServer& rs, const conf::CheckConfig& c,
                                                           std::string& why) {
    switch (c.type) {
    case conf::CheckType::Tcp: return std::make_unique<healthcheck::TcpProbe>(io_, tcpTarget(vs, rs, c));
    case conf::CheckType::Http:
    case conf::CheckType::Https: {
        healthcheck::HttpSpec s;
        s.path = c.path;
        s.host = c.virtualhost.empty() ? vs.virtualhost : c.virtualhost;
        s.httpVersion = c.httpVersion;
        s.statusCodes.clear();
        for (const auto& r : c.statusCodes) s.statusCodes.emplace_back(r.low, r.high);
        s.digest = c.digest;
        s.regex = c.regex;
        s.regexNoMatch = c.regexNoMatch;
        s.maxBody = static_cast<size_t>(c.maxBody);
        s.readTimeout = micros(c.readTimeout.value_or(c.connectTimeout.value_or(vs.connectTimeout)));
        s.tls = c.type == conf::CheckType::Https;
        s.sni = c.sni;
        s.verify = c.verify;
        s.caFile = c.caFile;
        s.certFile = c.certFile;
        s.keyFile = c.keyFile;
        return healthcheck::HttpProbe::create(io_, tcpTarget(vs, rs, c), s, why);
    }
    case conf::CheckType::Script: {
        healthcheck::ScriptSpec s;
        s.argv = c.command.argv;
        s.user = c.user.empty() ? cfg.global.scriptUser : c.user;
        s.timeout = micros(c.timeout.value_or(c.connectTimeout.value_or(vs.connectTimeout)));
        s.dynamicWeight = c.dynamicWeight;
        s.scriptSecurity = cfg.global.scriptSecurity;
        if (::geteuid() == 0) {
            const auto creds = healthcheck::lookupUser(s.user, why);
            if (!creds) return nullptr;
            if (creds->uid == 0 && cfg.global.scriptSecurity && !base::commandSafeForRoot(s.argv, why)) return nullptr;
            s.credentials = creds;
        }
        return std::make_unique<healthcheck::ScriptProbe>(io_, s);
    }
    }
    why = "unknown check type";
    return nullptr;
}

}  // namespace director
