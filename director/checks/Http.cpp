// http, https: a GET whose status (and optionally digest of the body, PCRE2 regex of the response) says up; https
// over TLS with SNI, verification and a client certificate as configured.
#include "director/checks/CheckKind.h"

#include "healthcheck/HttpProbe.h"

namespace director::checks {

namespace {

void httpKey(std::ostream& k, const CheckRef& r) {
    const auto& c = r.c;
    k << '|' << c.path << '|' << (c.virtualhost.empty() ? r.vs.virtualhost : c.virtualhost) << '|' << c.httpVersion;
    for (const auto& s : c.statusCodes) k << '|' << s.low << '-' << s.high;
    k << '|' << c.digest << '|' << c.regex << '|' << c.regexNoMatch << '|' << c.regexMinOffset << '|'
      << (c.regexMaxOffset ? *c.regexMaxOffset : -1) << '|' << c.regexHeaders << '|' << c.maxBody << '|'
      << (c.readTimeout ? c.readTimeout->count() : -1) << '|' << c.http2;
    tlsKey(k, c);
    for (const auto& o : c.regexOptions) k << '|' << o;
}

std::unique_ptr<healthcheck::Probe> makeHttp(asio::io_context& io, const CheckRef& r, std::string& why) {
    const auto& c = r.c;
    healthcheck::HttpSpec s = httpBase(r, c.type == conf::CheckType::Https);
    s.path = c.path;
    s.httpVersion = c.httpVersion;
    s.statusCodes.clear();
    for (const auto& range : c.statusCodes) s.statusCodes.emplace_back(range.low, range.high);
    s.digest = c.digest;
    s.regex = c.regex;
    s.regexOptions = c.regexOptions;
    s.regexMinOffset = static_cast<std::size_t>(c.regexMinOffset);
    if (c.regexMaxOffset) s.regexMaxOffset = static_cast<std::size_t>(*c.regexMaxOffset);
    s.regexHeaders = c.regexHeaders;
    s.regexNoMatch = c.regexNoMatch;
    s.http2 = c.http2;
    s.maxBody = static_cast<size_t>(c.maxBody);
    return healthcheck::HttpProbe::create(io, tcpTarget(r), s, why);
}

}  // namespace

healthcheck::HttpSpec httpBase(const CheckRef& r, bool tls) {
    const auto& c = r.c;
    healthcheck::HttpSpec s;
    s.host = c.virtualhost.empty() ? r.vs.virtualhost : c.virtualhost;
    s.readTimeout = micros(c.readTimeout.value_or(c.connectTimeout.value_or(r.vs.connectTimeout)));
    s.tls = tls;
    s.sni = c.sni;
    s.verify = c.verify;
    s.caFile = c.caFile;
    s.certFile = c.certFile;
    s.keyFile = c.keyFile;
    return s;
}

void tlsKey(std::ostream& k, const conf::CheckConfig& c) {
    k << '|' << c.sni << '|' << c.verify << '|' << c.caFile << '|' << c.certFile << '|' << c.keyFile;
}

extern const CheckKind kHttp;
extern const CheckKind kHttps;
const CheckKind kHttp{conf::CheckType::Http, httpKey, makeHttp};
const CheckKind kHttps{conf::CheckType::Https, httpKey, makeHttp};

}  // namespace director::checks
