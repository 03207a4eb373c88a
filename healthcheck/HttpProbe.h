// HttpProbe: GET a path over HTTP/1.0, 1.1 or 2 (nghttp2), or ask gRPC's health service; over TCP or TLS (HTTPS) with SNI, optional verification
// against a CA file and the host name, and an optional client certificate. Healthy when the status
// is among the expected codes and, when asked, the body's MD5 equals the digest (keepalived's
// genhash value) and the regex matches (or, with regexNoMatch, does not). One deadline covers the
// handshake and the response; bodies past maxBody fail. The connection is closed with RST.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/Regex.h"
#include "healthcheck/Http2Client.h"
#include "healthcheck/TcpProbe.h"

namespace healthcheck {

struct HttpSpec {
    std::string path = "/";
    std::string host;  // Host header; empty: the target address
    std::string httpVersion = "1.0";
    std::vector<std::pair<int, int>> statusCodes = {{200, 299}};
    std::string digest;  // lower-case hex MD5, empty: not checked
    std::string regex;   // PCRE2, empty: not checked
    std::vector<std::string> regexOptions;  // keepalived's names
    std::size_t regexMinOffset = 0;          // a match must start at or after this offset
    std::optional<std::size_t> regexMaxOffset;  // ... and at or before this one
    bool regexHeaders = false;  // the subject is the status line and headers, then the body (keepalived's)
    bool regexNoMatch = false;
    size_t maxBody = 1 << 20;
    std::chrono::microseconds readTimeout{5'000'000};
    bool readBody = false;  // read the body even without digest or regex (genhash)
    bool http2 = false;  // HTTP/2: prior knowledge over TCP, ALPN h2 over TLS
    // gRPC's health protocol (grpc.health.v1.Health/Check) over HTTP/2 for this service name ("":
    // the server as a whole): healthy on grpc-status 0 and SERVING. Status codes, digest and regex
    // do not apply.
    std::optional<std::string> grpcService;
    // TLS
    bool tls = false;
    std::string sni;  // empty: host (when it is a name)
    bool verify = false;
    std::string caFile, certFile, keyFile;
};

class HttpProbe : public Probe {
public:
    // Returns null and sets `why` when the spec cannot be used (bad regex, unreadable TLS files).
    static std::unique_ptr<HttpProbe> create(asio::io_context& io, TcpTarget target, HttpSpec spec, std::string& why);
    ~HttpProbe() override;
    void run(Done done) override;
    void cancel() override;
    // Hex MD5 of the last body read (when the body was read).
    const std::string& lastDigest() const { return lastDigest_; }
    int lastStatus() const { return lastStatus_; }
    // TLS handshakes that resumed an earlier session.
    std::uint64_t resumedHandshakes() const { return resumed_; }

    struct Exchange;

private:
    HttpProbe(asio::io_context& io, TcpTarget target, HttpSpec spec);
    asio::io_context& io_;
    TcpTarget target_;
    HttpSpec spec_;
    std::string request_;
    Http2Request h2Request_;
    std::shared_ptr<const base::Regex> regex_;
    std::shared_ptr<void> tlsContext_;  // asio::ssl::context, kept opaque to keep the header light
    // The last TLS session with this server, resumed on the next check: an abbreviated handshake
    // costs a fraction of a full one (no certificate, no signature).
    std::shared_ptr<void> tlsSession_;  // SSL_SESSION
    std::shared_ptr<Exchange> exchange_;
    std::string lastDigest_;
    int lastStatus_ = 0;
    std::uint64_t resumed_ = 0;
};

std::string md5Hex(const std::string& data);
// gRPC's length-prefixed HealthCheckRequest for a service name.
std::string grpcHealthRequest(const std::string& service);
// The status of a length-prefixed HealthCheckResponse (1: SERVING), nullopt when it is not one.
std::optional<int> grpcServingStatus(std::string_view body);

}  // namespace healthcheck
