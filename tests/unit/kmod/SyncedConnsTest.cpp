// The userspace plane's side of sync, as logic: the backup's connection table (the kernel's
// ip_vs_proc_conn rules), templates installed with the master's expiry, the master's resend
// rules, and the kernel's packet threshold.
#include <catch2/catch.hpp>

#include "kmod/userspace/PersistenceTable.h"
#include "kmod/userspace/SyncOutbox.h"
#include "kmod/userspace/SyncedConns.h"

using namespace kmod;
using base::IpAddress;
using Clock = std::chrono::steady_clock;

namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

sync::SyncConn conn(const char* daddr, std::uint32_t flags = 0, std::uint8_t proto = 6) {
    sync::SyncConn c;
    c.protocol = proto;
    c.state = proto == 6 ? sync::kTcpEstablished : 0;
    c.flags = flags | sync::kSyncFlag;
    c.caddr = ip("192.0.2.7");
    c.cport = 40000;
    c.vaddr = ip("10.0.0.1");
    c.vport = 80;
    c.daddr = ip(daddr);
    c.dport = 8080;
    c.timeout = 900;
    return c;
}

}  // namespace

TEST_CASE("synced connections: created, updated, replaced, and a stale expiry ignored") {
    SyncedConns t;
    auto a = std::make_shared<DestCounters>(), b = std::make_shared<DestCounters>();
    const auto now = Clock::now();
    CHECK(t.apply(conn("10.1.0.1"), a, now) == SyncedConns::Applied::Created);
    CHECK(a->active == 1);
    // the same connection, now closing: inactive
    CHECK(t.apply(conn("10.1.0.1", sync::kInactive), a, now) == SyncedConns::Applied::Updated);
    CHECK(a->active == 0);
    CHECK(a->inactive == 1);
    // an INACTIVE message for another real server: the old connection's late expiry, ignored
    CHECK(t.apply(conn("10.1.0.2", sync::kInactive), b, now) == SyncedConns::Applied::Stale);
    CHECK(b->total() == 0);
    // an active one replaces it
    CHECK(t.apply(conn("10.1.0.2"), b, now) == SyncedConns::Applied::Replaced);
    CHECK(a->total() == 0);
    CHECK(b->active == 1);
    CHECK(t.size() == 1);
    std::vector<ConnEntry> list;
    t.list(list, now);
    REQUIRE(list.size() == 1);
    CHECK(list[0].state == "ESTABLISHED");
    CHECK(list[0].daddr == ip("10.1.0.2"));
    CHECK(list[0].expires == 900);
    // each message re-arms the full timeout; expiry uncounts
    t.sweep(now + std::chrono::seconds(899));
    CHECK(t.size() == 1);
    t.sweep(now + std::chrono::seconds(900));
    CHECK(t.size() == 0);
    CHECK(b->total() == 0);
}

TEST_CASE("synced connections: unbound ones are kept, UDP flows are handed over, TCP dropped on takeover") {
    SyncedConns t;
    auto d = std::make_shared<DestCounters>();
    const auto now = Clock::now();
    t.apply(conn("10.1.0.1", 0, 17), d, now);
    t.apply(conn("10.1.0.9"), nullptr, now);  // no such destination here: unbound
    CHECK(t.size() == 2);
    CHECK(d->active == 1);
    const auto svc = ServiceKey::inet(ip("10.0.0.1"), kUdp, 80);
    CHECK_FALSE(t.takeUdp(svc, ip("192.0.2.7"), 40001));
    auto got = t.takeUdp(svc, ip("192.0.2.7"), 40000);
    REQUIRE(got);
    CHECK(got->address == ip("10.1.0.1"));
    CHECK(d->total() == 0);  // the live flow counts from now on
    CHECK(t.size() == 1);
    CHECK(t.dropStreams() == 1);
    CHECK(t.size() == 0);
}

TEST_CASE("persistence templates: installed with the master's expiry, resent by the master's rules") {
    PersistenceTable p(std::chrono::seconds(600));
    const auto now = Clock::now();
    const DestKey rs1{ip("10.1.0.1"), 80}, rs2{ip("10.1.0.2"), 80};
    const auto net = ip("192.0.2.0");
    auto r = p.install(net, rs1, PersistenceTable::kNone, now + std::chrono::seconds(30));
    CHECK(r.newTemplate);
    CHECK(p.use(net, now + std::chrono::seconds(29)) == rs1);  // alive until the master's expiry
    p.release(net, now + std::chrono::seconds(29));
    // the master re-bound the client: the real server changes
    r = p.install(net, rs2, PersistenceTable::kAssured, now + std::chrono::seconds(100));
    CHECK(r.replaced == rs1);

    PersistenceTable q(std::chrono::seconds(600));
    q.bind(net, rs1, now);  // sent by the caller
    bool resend = false;
    q.use(net, now + std::chrono::milliseconds(500), std::chrono::seconds(1), &resend);
    CHECK_FALSE(resend);  // at most once a second
    q.use(net, now + std::chrono::seconds(2), std::chrono::seconds(1), &resend);
    CHECK(resend);
    CHECK_FALSE(q.release(net, now + std::chrono::seconds(3)));  // two connections still hold it
    CHECK_FALSE(q.release(net, now + std::chrono::seconds(3)));
    CHECK(q.release(net, now + std::chrono::seconds(3)));  // the last: its expiry restarts
    q.bind(net, rs1, now + std::chrono::seconds(4));       // held from now on, until +604 s
    std::vector<IpAddress> renewed;
    auto collect = [&](const IpAddress& n, const DestKey&, std::uint16_t) { renewed.push_back(n); };
    q.sweep(
        now + std::chrono::seconds(500), [](const DestKey&) {}, collect);
    CHECK(renewed.empty());
    q.sweep(
        now + std::chrono::seconds(603), [](const DestKey&) {}, collect);
    CHECK(renewed.size() == 1);  // its expiry came while held: 60 s more (the kernel's expire_later)
    std::uint32_t left = 0;
    q.forEach(now + std::chrono::seconds(613),
              [&](const IpAddress&, const DestKey&, std::uint32_t l, std::uint16_t) { left = l; });
    CHECK(left == 50);
}

TEST_CASE("the kernel's packet rule: the third packet, then every fiftieth") {
    SyncOutbox o;
    std::vector<int> due;
    for (int p = 1; p <= 110; ++p)
        if (o.packetDue(static_cast<std::uint64_t>(p))) due.push_back(p);
    CHECK(due == std::vector<int>{3, 53, 103});
    o.period = 0;
    CHECK(o.packetDue(3));
    CHECK_FALSE(o.packetDue(53));
    // nothing is queued unless a master daemon runs
    o.push(conn("10.1.0.1"));
    CHECK(o.drain().empty());
    o.setMaster(true);
    o.push(conn("10.1.0.1"));
    CHECK(o.drain().size() == 1);
}
