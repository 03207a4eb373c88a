// The DNS messages of the dns check, as pure functions: the query (RFC 1035 §4.1: one question,
// recursion desired) and the reading of a reply. A reply is ours only with our id, QR set, opcode
// QUERY and our question echoed (names compared without case); anything else is not an answer to
// us and the check waits on (keepalived waits on a wrong id too). Ours with RCODE 0 is healthy;
// another RCODE is a failure (keepalived's DNS_CHECK).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace healthcheck::dns {

// A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY (keepalived's list), case-insensitive.
std::optional<std::uint16_t> typeCode(std::string_view name);

// `name` "" or "." is the root; otherwise dot-separated labels of 1..63 bytes (a trailing dot is
// allowed). nullopt when it cannot be encoded.
std::optional<std::string> buildQuery(std::uint16_t id, std::string_view name, std::uint16_t type);

enum class Verdict { NotOurs, Ok, Rcode };
struct Reading {
    Verdict verdict = Verdict::NotOurs;
    int rcode = 0;
    const char* why = "";  // NotOurs: "short", "id", "not a response", "opcode", "question"
};
Reading readReply(std::string_view reply, std::string_view query);

}  // namespace healthcheck::dns
