#include "healthcheck/ProbeResult.h"

#include <cstring>
#include <iterator>

#include "healthcheck/Bfd.h"

namespace healthcheck {
namespace {

std::string dnsRcodeName(int rcode) {
    static const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    if (rcode >= 0 && rcode < 6) return std::string(" (") + kNames[rcode] + ")";
    return "";
}

// gRPC's status codes (grpc/doc/statuscodes.md), as " (NAME)"
std::string grpcCodeName(int code) {
    static const char* const kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                         "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                         "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                         "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    if (code < 0) return " (none)";
    if (code < static_cast<int>(std::size(kNames))) return std::string(" (") + kNames[code] + ")";
    return "";
}

}  // namespace

const char* failureName(Failure f) {
    switch (f) {
    case Failure::None: return "ok";
    case Failure::Refused: return "refused";
    case Failure::Timeout: return "timeout";
    case Failure::Reset: return "reset";
    case Failure::Unreachable: return "unreachable";
    case Failure::TlsHandshake: return "TLS handshake";
    case Failure::HttpStatus: return "HTTP status";
    case Failure::HttpMalformed: return "malformed HTTP response";
    case Failure::BodyTooLarge: return "body too large";
    case Failure::DigestMismatch: return "digest mismatch";
    case Failure::Regex: return "regex";
    case Failure::Closed: return "closed early";
    case Failure::ScriptExit: return "script exit";
    case Failure::ScriptSignal: return "script killed by signal";
    case Failure::ScriptTimeout: return "script timeout";
    case Failure::ScriptSpawn: return "script could not start";
    case Failure::ReplyMismatch: return "reply mismatch";
    case Failure::DnsRcode: return "DNS rcode";
    case Failure::SmtpReply: return "SMTP reply";
    case Failure::FileValue: return "file value";
    case Failure::GrpcStatus: return "gRPC status";
    case Failure::GrpcNotServing: return "gRPC health";
    case Failure::BfdDown: return "BFD down";
    case Failure::Error: return "error";
    }
    return "?";
}

std::string ProbeResult::describe() const {
    std::string s = failureName(failure);
    switch (failure) {
    case Failure::HttpStatus:
    case Failure::ScriptExit:
    case Failure::ScriptSignal: s += " " + std::to_string(detail); break;
    case Failure::ReplyMismatch: s += " (" + std::to_string(detail) + " bytes)"; break;
    case Failure::DnsRcode: s += " " + std::to_string(detail) + dnsRcodeName(detail); break;
    case Failure::SmtpReply: s += detail ? " " + std::to_string(detail) : std::string(": malformed"); break;
    case Failure::FileValue: s += " " + std::to_string(detail); break;
    case Failure::GrpcStatus: s += " " + std::to_string(detail) + grpcCodeName(detail); break;
    case Failure::GrpcNotServing: s += detail == 2 ? " NOT_SERVING" : detail == 3 ? " SERVICE_UNKNOWN" : " " + std::to_string(detail); break;
    case Failure::BfdDown: s += std::string(" (") + bfd::name(static_cast<bfd::Diag>(detail)) + ")"; break;
    case Failure::ScriptSpawn:
    case Failure::Error:
    case Failure::Unreachable:
        if (detail) s += std::string(": ") + std::strerror(detail);
        break;
    default: break;
    }
    if (!output.empty()) s += ": " + output;
    return s;
}

}  // namespace healthcheck
