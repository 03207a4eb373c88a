// The route watch's reading of rtnetlink (vrrp::ownRouteDeletions): only deletions of our routes
// and rules (protocol 18) count, and no byte string makes it read past its end.
#include <catch2/catch.hpp>

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <random>
#include <vector>

#include "vrrp/Net.h"

namespace {

void put(std::vector<std::uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out.insert(out.end(), b, b + n);
    while (out.size() % 4) out.push_back(0);
}

std::vector<std::uint8_t> route(std::uint16_t type, std::uint8_t protocol) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
    rtmsg r{};
    r.rtm_family = AF_INET;
    r.rtm_protocol = protocol;
    std::vector<std::uint8_t> out;
    put(out, &h, sizeof h);
    put(out, &r, sizeof r);
    return out;
}

std::vector<std::uint8_t> rule(std::uint16_t type, std::uint8_t protocol) {
    fib_rule_hdr f{};
    f.family = AF_INET;
    nlattr a{};
    a.nla_type = FRA_PROTOCOL;
    a.nla_len = sizeof(nlattr) + 1;
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_len = NLMSG_LENGTH(sizeof f) + NLA_ALIGN(a.nla_len);
    std::vector<std::uint8_t> out;
    put(out, &h, sizeof h);
    put(out, &f, sizeof f);
    std::vector<std::uint8_t> attr(sizeof a + 1);
    std::memcpy(attr.data(), &a, sizeof a);
    attr[sizeof a] = protocol;
    put(out, attr.data(), attr.size());
    return out;
}

}  // namespace

TEST_CASE("route watch: deletions of protocol 18 routes and rules count, nothing else") {
    auto batch = route(RTM_DELROUTE, 18);
    for (const auto& m : {route(RTM_DELROUTE, 4), route(RTM_NEWROUTE, 18), rule(RTM_DELRULE, 18),
                          rule(RTM_DELRULE, 3), rule(RTM_NEWRULE, 18)})
        batch.insert(batch.end(), m.begin(), m.end());
    CHECK(vrrp::ownRouteDeletions(batch) == 2);
    CHECK(vrrp::ownRouteDeletions({}) == 0);
    // any bytes: read within bounds (ASan and UBSan would say otherwise), a count no larger than
    // the messages that fit
    std::mt19937 rng(11);
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> junk = batch;
        junk.resize(rng() % (batch.size() + 8));
        for (int k = 0; k < 4 && !junk.empty(); ++k) junk[rng() % junk.size()] = static_cast<std::uint8_t>(rng());
        CHECK(vrrp::ownRouteDeletions(junk) <= 6);
    }
}
