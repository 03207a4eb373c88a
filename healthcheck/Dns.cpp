#include "healthcheck/Dns.h"

#include <array>
#include <cctype>
#include <utility>

namespace healthcheck::dns {
namespace {

constexpr std::size_t kHeader = 12;

constexpr std::array<std::pair<std::string_view, std::uint16_t>, 9> kTypes{{{"A", 1},
                                                                             {"NS", 2},
                                                                             {"CNAME", 5},
                                                                             {"SOA", 6},
                                                                             {"MX", 15},
                                                                             {"TXT", 16},
                                                                             {"AAAA", 28},
                                                                             {"RRSIG", 46},
                                                                             {"DNSKEY", 48}}};

bool sameIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::uint16_t be16(std::string_view s, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]));
}

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

}  // namespace

std::optional<std::uint16_t> typeCode(std::string_view name) {
    for (const auto& [n, code] : kTypes)
        if (sameIgnoringCase(n, name)) return code;
    return std::nullopt;
}

std::optional<std::string> buildQuery(std::uint16_t id, std::string_view name, std::uint16_t type) {
    std::string q;
    put16(q, id);
    put16(q, 0x0100);  // QR 0, opcode QUERY, RD 1
    put16(q, 1);       // QDCOUNT
    put16(q, 0);
    put16(q, 0);
    put16(q, 0);
    if (name == ".") name = {};
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::size_t total = 0;
    while (!name.empty()) {
        const std::size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return std::nullopt;
        q.push_back(static_cast<char>(label.size()));
        q.append(label);
        total += label.size() + 1;
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
        if (name.empty()) return std::nullopt;  // "a..b" ends in an empty label
    }
    if (total > 254) return std::nullopt;
    q.push_back('\0');
    put16(q, type);
    put16(q, 1);  // class IN
    return q;
}

Reading readReply(std::string_view reply, std::string_view query) {
    if (reply.size() < kHeader || query.size() < kHeader) return {Verdict::NotOurs, 0, "short"};
    if (be16(reply, 0) != be16(query, 0)) return {Verdict::NotOurs, 0, "id"};
    const std::uint16_t flags = be16(reply, 2);
    if (!(flags & 0x8000)) return {Verdict::NotOurs, 0, "not a response"};
    if (((flags >> 11) & 0xf) != 0) return {Verdict::NotOurs, 0, "opcode"};
    const std::string_view question = query.substr(kHeader);
    if (be16(reply, 4) != 1 || reply.size() < kHeader + question.size() ||
        !sameIgnoringCase(reply.substr(kHeader, question.size()), question))
        return {Verdict::NotOurs, 0, "question"};
    const int rcode = flags & 0xf;
    if (rcode != 0) return {Verdict::Rcode, rcode, ""};
    return {Verdict::Ok, 0, ""};
}

}  // namespace healthcheck::dns
