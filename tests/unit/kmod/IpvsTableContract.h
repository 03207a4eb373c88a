// The IpvsTable contract: what every implementation (in-memory, kernel netlink, userspace, nftables)
// must do.
// Instantiate with a factory for a fresh, empty table.
#pragma once
#include <catch2/catch.hpp>

#include <cerrno>
#include <functional>
#include <memory>

#include "kmod/IpvsTable.h"

namespace testutil {

inline kmod::Service tcpService(const char* addr, std::uint16_t port, const char* sched = "wlc") {
    kmod::Service s;
    s.key = kmod::ServiceKey::inet(*base::IpAddress::parse(addr), kmod::kTcp, port);
    s.scheduler = sched;
    return s;
}

inline kmod::Dest dest(const char* addr, std::uint16_t port, std::uint32_t weight = 1) {
    kmod::Dest d;
    d.key = {*base::IpAddress::parse(addr), port};
    d.weight = weight;
    return d;
}

// `fwmark`: the implementation has fwmark services (the userspace plane refuses them). `sched`: a
// scheduler the implementation has (the nftables plane has no wlc); edits switch it to rr or wrr.
inline void ipvsTableContract(const std::function<std::unique_ptr<kmod::IpvsTable>()>& make, bool fwmark = true,
                              const char* sched = "wlc") {
    using kmod::Op;
    const std::string other = std::string(sched) == "rr" ? "wrr" : "rr";
    SECTION("add, dump, edit and delete services and destinations") {
        auto t = make();
        const auto s = tcpService("10.0.0.1", 80, sched);
        auto r = t->apply({Op{Op::Kind::AddService, s, {}}, Op{Op::Kind::AddDest, s, dest("10.0.1.1", 8080, 3)},
                           Op{Op::Kind::AddDest, s, dest("10.0.1.2", 8080)}});
        REQUIRE(r.ok());
        CHECK(r.applied == 3);
        auto d = t->dump();
        REQUIRE(d);
        REQUIRE(d->services.size() == 1);
        CHECK(d->services.at(s.key).service.scheduler == sched);
        CHECK(d->services.at(s.key).dests.size() == 2);
        auto s2 = s;
        s2.scheduler = other;
        REQUIRE(t->apply({Op{Op::Kind::EditService, s2, {}}, Op{Op::Kind::EditDest, s2, dest("10.0.1.1", 8080, 0)},
                          Op{Op::Kind::DelDest, s2, dest("10.0.1.2", 8080)}})
                    .ok());
        d = t->dump();
        CHECK(d->services.at(s.key).service.scheduler == other);
        CHECK(d->services.at(s.key).dests.size() == 1);
        CHECK(d->services.at(s.key).dests.begin()->second.weight == 0);
        REQUIRE(t->apply({Op{Op::Kind::DelService, s, {}}}).ok());
        CHECK(t->dump()->services.empty());
    }
    SECTION("refusals carry the kernel's errno and do not stop the batch") {
        auto t = make();
        const auto s = tcpService("10.0.0.1", 80, sched);
        const auto missing = tcpService("10.0.0.9", 80, sched);
        auto r = t->apply({Op{Op::Kind::AddService, s, {}}, Op{Op::Kind::AddService, s, {}},
                           Op{Op::Kind::AddDest, missing, dest("10.0.1.1", 80)},
                           Op{Op::Kind::AddDest, s, dest("10.0.1.1", 80)},
                           Op{Op::Kind::DelDest, s, dest("10.0.1.7", 80)}, Op{Op::Kind::EditService, missing, {}}});
        CHECK(r.applied == 2);
        CHECK(r.failed == 4);
        REQUIRE(r.firstFailure);
        CHECK(r.firstFailure->index == 1);
        CHECK(r.firstFailure->error.value() == EEXIST);
        CHECK(t->dump()->services.at(s.key).dests.size() == 1);
    }
    SECTION("an unknown scheduler is refused") {
        auto t = make();
        auto r = t->apply({Op{Op::Kind::AddService, tcpService("10.0.0.1", 80, "nosuch"), {}}});
        REQUIRE(r.firstFailure);
        CHECK(r.firstFailure->error.value() == ENOENT);
    }
    SECTION("fwmark and IPv6 services are distinct keys") {
        if (!fwmark) return;
        auto t = make();
        kmod::Service m;
        m.key = kmod::ServiceKey::mark(base::Family::V4, 7);
        m.scheduler = sched;
        kmod::Service m6;
        m6.key = kmod::ServiceKey::mark(base::Family::V6, 7);
        m6.scheduler = sched;
        kmod::Service v6;
        v6.key = kmod::ServiceKey::inet(*base::IpAddress::parse("2001:db8::1"), kmod::kUdp, 53);
        v6.scheduler = sched;
        REQUIRE(t->apply({Op{Op::Kind::AddService, m, {}}, Op{Op::Kind::AddService, m6, {}},
                          Op{Op::Kind::AddService, v6, {}}})
                    .ok());
        CHECK(t->dump()->services.size() == 3);
    }
    SECTION("flush empties the table; timeouts keep fields given as 0") {
        auto t = make();
        REQUIRE(t->apply({Op{Op::Kind::AddService, tcpService("10.0.0.1", 80, sched), {}}}).ok());
        REQUIRE_FALSE(t->flush());
        CHECK(t->dump()->services.empty());
        const auto before = t->timeouts();
        REQUIRE(before);
        REQUIRE_FALSE(t->setTimeouts(kmod::Timeouts{1000, 0, 0}));
        const auto after = t->timeouts();
        CHECK(after->tcp == 1000);
        CHECK(after->tcpFin == before->tcpFin);
        CHECK(after->udp == before->udp);
    }
}

}  // namespace testutil
