// ProbeResult: what one probe attempt found: ok, or a failure reason from a fixed list, plus the
// attempt's latency and, for scripts with dynamic weight, the weight the script asked for.
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace healthcheck {

enum class Failure {
    None,
    Refused,         // connection refused
    Timeout,         // connect or response timeout
    Reset,           // connection reset by the peer
    Unreachable,     // no route, network down, address not available
    TlsHandshake,    // TLS handshake failed (or verification)
    HttpStatus,      // status code not among the expected ones (detail = code)
    HttpMalformed,   // not an HTTP response
    BodyTooLarge,    // more than max_body
    DigestMismatch,  // MD5 of the body differs
    Regex,           // body regex did not match (or matched, with regex_no_match)
    Closed,          // the peer closed before a complete response
    ScriptExit,      // non-zero exit (detail = code)
    ScriptSignal,    // killed by a signal (detail = signal)
    ScriptTimeout,   // ran past its timeout; its process group was killed
    ScriptSpawn,     // could not start (detail = errno)
    ReplyMismatch,   // udp: the reply's bytes or length are not the ones required (detail = length)
    DnsRcode,        // dns: the answer's RCODE is not NOERROR (detail = rcode)
    SmtpReply,       // smtp: a reply other than the one expected (detail = code; 0: not an SMTP reply)
    FileValue,       // file: the tracked file's value means down (detail = the value)
    GrpcStatus,      // grpc: the call's grpc-status is not OK (detail = the code; -1: none)
    GrpcNotServing,  // grpc: the health service says other than SERVING (detail = its status)
    BfdDown,         // bfd: the session is not Up (detail = its diagnostic, RFC 5880 4.1)
    Error,           // any other local error (detail = errno)
};

struct ProbeResult {
    Failure failure = Failure::None;
    int detail = 0;
    std::chrono::microseconds latency{0};
    std::optional<int> weight;  // dynamic weight (scripts), the weight added (file)
    std::string output;         // first line of a script's output

    bool ok() const { return failure == Failure::None; }
    static ProbeResult success() { return {}; }
    static ProbeResult fail(Failure f, int detail = 0) {
        ProbeResult r;
        r.failure = f;
        r.detail = detail;
        return r;
    }
    // "connect timeout", "HTTP status 503", "script exit 2", ...
    std::string describe() const;
};

const char* failureName(Failure f);

}  // namespace healthcheck
