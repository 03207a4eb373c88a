// grpc (keepalived has none; Envoy's and Kubernetes' gRPC health checks): grpc.health.v1.Health/Check
// over HTTP/2 (nghttp2), plaintext or TLS, healthy on grpc-status 0 and SERVING.
#include "director/checks/CheckKind.h"
#include "healthcheck/HttpProbe.h"

namespace director::checks {

extern const CheckKind kGrpc;
const CheckKind kGrpc{
    conf::CheckType::Grpc,
    [](std::ostream& k, const CheckRef& r) {
        const auto& c = r.c;
        k << " service=" << c.grpcService << " tls=" << c.tls << " authority="
          << (c.virtualhost.empty() ? r.vs.virtualhost : c.virtualhost) << " read="
          << (c.readTimeout ? c.readTimeout->count() : -1);
        tlsKey(k, c);
    },
    [](asio::io_context& io, const CheckRef& r, std::string& why) -> std::unique_ptr<healthcheck::Probe> {
        const auto& c = r.c;
        healthcheck::HttpSpec s = httpBase(r, c.tls);
        s.grpcService = c.grpcService;
        s.maxBody = 65536;  // a HealthCheckResponse is a few bytes
        return healthcheck::HttpProbe::create(io, tcpTarget(r), s, why);
    },
};

}  // namespace director::checks
