// The userspace plane's schedulers against the kernel's documented behaviour.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "kmod/Model.h"
#include "kmod/sched/Schedulers.h"

using kmod::SchedDest;
using kmod::SchedPacket;

namespace {

std::vector<SchedDest> dests(std::initializer_list<int> weights) {
    std::vector<SchedDest> v;
    int i = 1;
    for (int w : weights) {
        SchedDest d;
        d.address = base::IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(i++));
        d.port = 80;
        d.weight = w;
        v.push_back(d);
    }
    return v;
}

std::string sequence(kmod::Scheduler& s, const std::vector<SchedDest>& d, int n) {
    std::string out;
    SchedPacket p;
    for (int i = 0; i < n; ++i) {
        auto pick = s.pick(d, p);
        out += pick ? static_cast<char>('a' + *pick) : '-';
    }
    return out;
}

SchedPacket from(const char* addr, std::uint16_t port = 1234) {
    SchedPacket p;
    p.source = *base::IpAddress::parse(addr);
    p.sourcePort = port;
    p.destination = *base::IpAddress::parse("192.0.2.1");
    return p;
}

}  // namespace

TEST_CASE("rr: in list order, skipping weight 0 and overloaded destinations") {
    auto d = dests({1, 0, 5, 1});
    d[3].overloaded = true;
    auto s = kmod::makeScheduler("rr", 0);
    s->update(d);
    CHECK(sequence(*s, d, 6) == "acacac");
    d[0].weight = 0;
    d[2].weight = 0;
    s->update(d);
    CHECK(sequence(*s, d, 2) == "--");
}

TEST_CASE("wrr: the kernel's interleaved sequence") {
    auto d = dests({4, 3, 2});
    auto s = kmod::makeScheduler("wrr", 0);
    s->update(d);
    CHECK(sequence(*s, d, 18) == "aababcabcaababcabc");
    // gcd 2: weights 4 and 2 give 2:1
    auto e = dests({4, 2});
    auto t = kmod::makeScheduler("wrr", 0);
    t->update(e);
    CHECK(sequence(*t, e, 6) == "aabaab");
    // all weights 0: nothing
    auto z = dests({0, 0});
    auto u = kmod::makeScheduler("wrr", 0);
    u->update(z);
    CHECK(sequence(*u, z, 3) == "---");
    // proportions over a long run follow the weights, an overloaded one is skipped
    auto w = dests({5, 1, 3});
    w[1].overloaded = true;
    auto v = kmod::makeScheduler("wrr", 0);
    v->update(w);
    const std::string seq = sequence(*v, w, 800);
    CHECK(std::count(seq.begin(), seq.end(), 'a') == 500);
    CHECK(std::count(seq.begin(), seq.end(), 'b') == 0);
    CHECK(std::count(seq.begin(), seq.end(), 'c') == 300);
}

TEST_CASE("lc, wlc, sed, nq pick the least loaded by the kernel's measure") {
    auto d = dests({1, 3, 1});
    d[0].activeConns = 2;
    d[1].activeConns = 4;
    d[2].activeConns = 3;
    SchedPacket p;
    // lc: (active << 8) + inactive, lowest: a (2)
    CHECK(*kmod::makeScheduler("lc", 0)->pick(d, p) == 0);
    // wlc: overhead / weight: a 512, b 1024/3 = 341, c 768: b
    CHECK(*kmod::makeScheduler("wlc", 0)->pick(d, p) == 1);
    // sed: (active + 1) / weight: a 3, b 5/3, c 4: b
    CHECK(*kmod::makeScheduler("sed", 0)->pick(d, p) == 1);
    // nq: an idle server first, whatever its weight
    d[2].activeConns = 0;
    CHECK(*kmod::makeScheduler("nq", 0)->pick(d, p) == 2);
    // inactive connections count 1/256 of an active one
    auto e = dests({1, 1});
    e[0].activeConns = 1;
    e[1].inactConns = 255;
    CHECK(*kmod::makeScheduler("lc", 0)->pick(e, p) == 1);
    e[1].inactConns = 257;
    CHECK(*kmod::makeScheduler("lc", 0)->pick(e, p) == 0);
    // weight 0 quiesces
    e[0].weight = 0;
    CHECK(*kmod::makeScheduler("wlc", 0)->pick(e, p) == 1);
}

TEST_CASE("sh: a client keeps its destination; buckets follow the weights; fallback and port flags") {
    auto d = dests({3, 1});
    auto s = kmod::makeScheduler("sh", 0);
    s->update(d);
    const auto& buckets = dynamic_cast<kmod::HashScheduler&>(*s).buckets();
    CHECK(std::count(buckets.begin(), buckets.end(), 0) == 192);  // 3 of every 4 buckets
    CHECK(std::count(buckets.begin(), buckets.end(), 1) == 64);
    std::map<size_t, int> spread;
    for (int i = 0; i < 1000; ++i) {
        const std::string a = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
        const auto first = s->pick(d, from(a.c_str(), 1000));
        REQUIRE(first);
        CHECK(s->pick(d, from(a.c_str(), 2000)) == first);  // the port does not matter without the flag
        ++spread[*first];
    }
    CHECK(spread[0] > 600);
    CHECK(spread[1] > 150);
    // a client whose destination is down: none, unless fallback
    SchedPacket p = from("10.9.9.9");
    const size_t home = *s->pick(d, p);
    d[home].weight = 0;
    CHECK_FALSE(s->pick(d, p));
    auto fb = kmod::makeScheduler("sh", kmod::kSvcSched1);
    auto d2 = dests({3, 1});
    fb->update(d2);
    d2[home].weight = 0;
    CHECK(fb->pick(d2, p) == 1 - home);
    // with the port flag, ports of one client spread
    auto sp = kmod::makeScheduler("sh", kmod::kSvcSched2);
    auto d3 = dests({1, 1, 1, 1});
    sp->update(d3);
    std::set<size_t> seen;
    for (std::uint16_t port = 1000; port < 1100; ++port) seen.insert(*sp->pick(d3, from("10.1.1.1", port)));
    CHECK(seen.size() == 4);
}

TEST_CASE("sh: the kernel's hash of a known address") {
    // hash_32(ntohl(10.0.0.1), 8) = (0x0a000001 * 0x61C88647) >> 24
    CHECK(kmod::hash32(0x0a000001u, 8) == ((0x0a000001u * 0x61C88647u) >> 24));
    CHECK(kmod::foldAddress(*base::IpAddress::parse("10.0.0.1")) == 0x0a000001u);
    CHECK(kmod::foldAddress(*base::IpAddress::parse("2001:db8::1")) == (0x20010db8u ^ 0u ^ 0u ^ 1u));
}

TEST_CASE("dh: one destination per destination address") {
    auto d = dests({1, 1, 1});
    auto s = kmod::makeScheduler("dh", 0);
    s->update(d);
    SchedPacket p = from("10.1.1.1");
    const auto a = s->pick(d, p);
    p.source = *base::IpAddress::parse("10.7.7.7");
    CHECK(s->pick(d, p) == a);  // the source does not matter
}

TEST_CASE("fo and ovf") {
    auto d = dests({2, 5, 5, 1});
    d[1].overloaded = true;
    SchedPacket p;
    CHECK(*kmod::makeScheduler("fo", 0)->pick(d, p) == 2);
    d[2].activeConns = 6;  // above its weight: ovf passes it over
    CHECK(*kmod::makeScheduler("ovf", 0)->pick(d, p) == 0);
    CHECK(*kmod::makeScheduler("fo", 0)->pick(d, p) == 2);
}

TEST_CASE("twos: choices follow the weights when loads are equal, and prefer the less loaded") {
    auto d = dests({1, 3});
    auto s = kmod::makeScheduler("twos", 0, 7);
    std::map<size_t, int> n;
    for (int i = 0; i < 4000; ++i) ++n[*s->pick(d, SchedPacket{})];
    CHECK(n[1] > n[0] * 2);
    d[1].activeConns = 1000;
    int a = 0;
    for (int i = 0; i < 1000; ++i) a += *s->pick(d, SchedPacket{}) == 0;
    CHECK(a > 400);  // whenever a is drawn at all, it wins
}

TEST_CASE("every scheduler name the config accepts exists, except those still to come") {
    for (const char* n : {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "fo", "ovf", "twos"}) CHECK(kmod::makeScheduler(n, 0));
    for (const char* n : {"mh", "lblc", "lblcr"}) CHECK_FALSE(kmod::makeScheduler(n, 0));
}
