#include "director/Genhash.h"

#include <netdb.h>

#include <charconv>
#include <cstdio>

#include "healthcheck/HttpProbe.h"

namespace director {

std::optional<UrlParts> parseUrl(const std::string& url) {
    UrlParts u;
    std::string rest;
    if (url.rfind("http://", 0) == 0) rest = url.substr(7);
    else if (url.rfind("https://", 0) == 0) {
        u.tls = true;
        u.port = 443;
        rest = url.substr(8);
    } else {
        return std::nullopt;
    }
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos) u.path = rest.substr(slash);
    std::string port;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) return std::nullopt;
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return std::nullopt;
            port = authority.substr(close + 2);
        }
    } else {
        const auto colon = authority.find(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) port = authority.substr(colon + 1);
    }
    if (u.host.empty()) return std::nullopt;
    if (!port.empty()) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) return std::nullopt;
        u.port = static_cast<std::uint16_t>(v);
    }
    return u;
}

int genhash(const std::string& url, bool verbose, double timeoutSeconds) {
    const auto u = parseUrl(url);
    if (!u) {
        std::fprintf(stderr, "genhash: '%s' is not an http:// or https:// URL\n", url.c_str());
        return 2;
    }
    asio::io_context io;
    boost::system::error_code ec;
    asio::ip::address addr = asio::ip::make_address(u->host, ec);
    if (ec) {
        asio::ip::tcp::resolver resolver(io);
        auto results = resolver.resolve(u->host, std::to_string(u->port), ec);
        if (ec || results.empty()) {
            std::fprintf(stderr, "genhash: cannot resolve %s: %s\n", u->host.c_str(), ec.message().c_str());
            return 1;
        }
        addr = results.begin()->endpoint().address();
    }
    const auto timeout = std::chrono::microseconds(static_cast<long long>(timeoutSeconds * 1e6));
    healthcheck::TcpTarget target{asio::ip::tcp::endpoint(addr, u->port), {}, timeout};
    healthcheck::HttpSpec spec;
    spec.path = u->path;
    spec.host = u->host;
    spec.tls = u->tls;
    spec.readBody = true;
    spec.readTimeout = timeout;
    spec.statusCodes = {{100, 999}};
    spec.maxBody = 64u << 20;
    std::string why;
    auto probe = healthcheck::HttpProbe::create(io, target, spec, why);
    if (!probe) {
        std::fprintf(stderr, "genhash: %s\n", why.c_str());
        return 1;
    }
    std::optional<healthcheck::ProbeResult> result;
    probe->run([&](healthcheck::ProbeResult r) { result = r; });
    io.run();
    if (!result || !result->ok()) {
        std::fprintf(stderr, "genhash: %s: %s\n", url.c_str(), result ? result->describe().c_str() : "no answer");
        return 1;
    }
    if (verbose)
        std::printf("URL %s\nHTTP status %d\nMD5SUM = %s\n", url.c_str(), probe->lastStatus(),
                    probe->lastDigest().c_str());
    else std::printf("%s\n", probe->lastDigest().c_str());
    return 0;
}

}  // namespace director
