#include "director/checks/CheckKind.h"

#include "base/AsioAddress.h"

namespace director::checks {

extern const CheckKind kTcp;
extern const CheckKind kHttp;
extern const CheckKind kHttps;
extern const CheckKind kScript;
extern const CheckKind kUdp;
extern const CheckKind kDns;
extern const CheckKind kSmtp;
extern const CheckKind kPing;
extern const CheckKind kFile;
extern const CheckKind kGrpc;
extern const CheckKind kBfd;

namespace {

// One row per check type.
const CheckKind* const kRegistry[] = {&kTcp, &kHttp, &kHttps, &kScript, &kUdp, &kDns, &kSmtp, &kPing, &kFile, &kGrpc, &kBfd};

}  // namespace

const CheckKind* find(conf::CheckType type) {
    for (const auto* k : kRegistry)
        if (k->type == type) return k;
    return nullptr;
}

std::chrono::microseconds micros(base::Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); }

healthcheck::TcpTarget tcpTarget(const CheckRef& r) {
    healthcheck::TcpTarget t;
    const base::IpAddress addr = r.c.connectIp.value_or(r.rs.address);
    const int port = r.c.connectPort.value_or(r.rs.port);
    t.endpoint = asio::ip::tcp::endpoint(base::toAsio(addr), static_cast<std::uint16_t>(port));
    if (r.c.bindIp) t.source.address = base::toAsio(*r.c.bindIp);
    t.source.port = static_cast<std::uint16_t>(r.c.bindPort);
    t.source.interface = r.c.bindInterface;
    t.source.fwmark = r.c.fwmark;
    t.connectTimeout = micros(r.c.connectTimeout.value_or(r.vs.connectTimeout));
    return t;
}

healthcheck::UdpTarget udpTarget(const CheckRef& r) {
    healthcheck::UdpTarget t;
    const auto tcp = tcpTarget(r);
    t.endpoint = asio::ip::udp::endpoint(tcp.endpoint.address(), tcp.endpoint.port());
    t.source = tcp.source;
    t.timeout = tcp.connectTimeout;
    return t;
}

}  // namespace director::checks
