#include <catch2/catch.hpp>

#include <map>

#include "RandomTables.h"
#include "kmod/Diff.h"
#include "kmod/memory/InMemoryIpvsTable.h"

using kmod::Op;

namespace {

// The minimal number of ops, counted independently of diff().
size_t minimalOps(const kmod::TableState& a, const kmod::TableState& b) {
    size_t n = 0;
    for (const auto& [k, e] : a.services)
        if (!b.services.contains(k)) ++n;
    for (const auto& [k, want] : b.services) {
        auto it = a.services.find(k);
        if (it == a.services.end()) {
            n += 1 + want.dests.size();
            continue;
        }
        if (!(it->second.service == want.service)) ++n;
        for (const auto& [dk, d] : it->second.dests)
            if (!want.dests.contains(dk) || !(want.dests.at(dk) == d)) ++n;
        for (const auto& [dk, d] : want.dests)
            if (!it->second.dests.contains(dk)) ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("property: applying diff(a, b) to a yields b, with the minimal number of ops") {
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        const kmod::TableState a = testutil::randomTable(rng);
        const kmod::TableState b = testutil::randomTable(rng);
        kmod::memory::InMemoryIpvsTable table;
        table.state() = a;
        const auto ops = kmod::diff(a, b);
        const auto result = table.apply(ops);
        INFO("case " << i);
        REQUIRE(result.ok());
        REQUIRE(*table.dump() == b);
        CHECK(ops.size() == minimalOps(a, b));
        CHECK(kmod::diff(b, b).empty());
    }
}

TEST_CASE("property: ops are safely ordered") {
    std::mt19937 rng(7);
    for (int i = 0; i < 1000; ++i) {
        const kmod::TableState a = testutil::randomTable(rng);
        const kmod::TableState b = testutil::randomTable(rng);
        const auto ops = kmod::diff(a, b);
        std::map<kmod::ServiceKey, size_t> added, deleted;
        for (size_t j = 0; j < ops.size(); ++j) {
            const Op& op = ops[j];
            if (op.kind == Op::Kind::AddService) added[op.service.key] = j;
            if (op.kind == Op::Kind::DelService) deleted[op.service.key] = j;
            if (op.kind == Op::Kind::AddDest && !a.services.contains(op.service.key)) {
                REQUIRE(added.contains(op.service.key));  // service before its dests
            }
            // A deleted service takes its dests with it: no dest op for it, ever.
            if (!op.isServiceOp()) CHECK_FALSE(deleted.contains(op.service.key));
        }
        // Every deletion of a service comes before any addition.
        for (const auto& [k, dj] : deleted)
            for (const auto& [k2, aj] : added) CHECK(dj < aj);
    }
}

TEST_CASE("an unchanged service yields no op, a weight change one edit") {
    kmod::TableState a;
    kmod::Service s;
    s.key = kmod::ServiceKey::inet(*base::IpAddress::parse("10.0.0.1"), kmod::kTcp, 80);
    a.addService(s);
    kmod::Dest d;
    d.key = {*base::IpAddress::parse("10.0.1.1"), 80};
    a.addDest(s.key, d);
    kmod::TableState b = a;
    CHECK(kmod::diff(a, b).empty());
    b.services.at(s.key).dests.at(d.key).weight = 5;
    const auto ops = kmod::diff(a, b);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].kind == Op::Kind::EditDest);
    CHECK(ops[0].dest.weight == 5);
    b.services.at(s.key).service.scheduler = "rr";
    CHECK(kmod::diff(a, b).size() == 2);
    CHECK(kmod::diff(a, b)[0].kind == Op::Kind::EditService);
}

#include "kmod/Stats.h"

TEST_CASE("the rate estimator converges like the kernel's (ip_vs_est.c)") {
    kmod::RateEstimator e;
    kmod::StatsCounters c;
    for (int i = 0; i < 60; ++i) {
        c.conns += 100;  // per 2 s tick: 50 conns/s
        c.inpkts += 1000;
        c.outpkts += 2000;
        c.inbytes += 2'000'000;  // 1 MB/s
        c.outbytes += 4'000'000;
        e.tick(c);
    }
    const auto r = e.read();
    CHECK(r.cps == 50);
    CHECK(r.inpps == 500);
    CHECK(r.outpps == 1000);
    CHECK(r.inbps == 1'000'000);
    CHECK(r.outbps == 2'000'000);
    // after one tick the average has gone a quarter of the way: 12.5/s, which the kernel rounds to 12
    kmod::RateEstimator f;
    kmod::StatsCounters z;
    z.conns = 100;
    f.tick(z);
    CHECK(f.read().cps == 12);
    // idle: decays towards 0
    for (int i = 0; i < 100; ++i) e.tick(c);
    CHECK(e.read().cps == 0);
}
