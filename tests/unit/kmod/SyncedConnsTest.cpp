// The userspace plane's side of sync, as logic: the backup's connection table (the kernel's
// ip_vs_proc_conn rules), templates installed with the master's expiry, the master's resend
// rules, and the kernel's packet threshold.
#include <catch2/catch.hpp>

#include "kmod/userspace/PersistenceTable.h"
#include "kmod/userspace/SyncOutbox.h"
#include "kmod/userspace/SyncedConns.h"

using namespace kmod;
using namespace kmod::userspace;
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

TEST_CASE("persistence: two clients of one network placed at once end on one real server") {
    // Two forwarding threads both found no template and scheduled: the first bind wins, the second
    // joins it (counted under it), unless the winner's server is the one the caller saw leave.
    PersistenceTable p(std::chrono::seconds(300));
    const auto now = Clock::now();
    const DestKey a{ip("10.1.0.1"), 80}, b{ip("10.1.0.2"), 80};
    const auto net = ip("192.0.2.0");
    auto r = p.bind(net, a, now);
    CHECK(r.newTemplate);
    CHECK_FALSE(r.kept);
    r = p.bind(net, b, now);
    CHECK(r.kept == a);
    CHECK_FALSE(r.newTemplate);
    CHECK_FALSE(r.replaced);
    CHECK(p.use(net, now) == a);
    CHECK_FALSE(p.release(net, now));  // three connections counted: use, and both binds
    CHECK_FALSE(p.release(net, now));
    CHECK(p.release(net, now));
    r = p.bind(net, b, now, a);  // a left the service: b replaces it
    CHECK(r.newTemplate);
    CHECK(r.replaced == a);
    CHECK_FALSE(r.kept);
    CHECK(p.release(net, now));
    // an expired template is replaced, whatever it named
    r = p.bind(net, a, now + std::chrono::seconds(301));
    CHECK(r.replaced == b);
    CHECK_FALSE(r.kept);
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

namespace {

sync::SyncConn connFrom(std::uint32_t n, std::uint8_t proto = 6) {
    sync::SyncConn c = conn("10.1.0.1", 0, proto);
    c.caddr = IpAddress::v4(0xc6120000 + n);  // 198.18.0.0/15: one client each
    return c;
}

}  // namespace

TEST_CASE("synced connections: caps in all and per sender, refused and not counted; units come back") {
    SyncedConns t;
    t.budget()->setLimits(SyncLimits{10, 10, 6});
    const auto now = Clock::now();
    const auto master = ip("10.99.0.11"), spoofer = ip("10.99.0.66");
    // one sender fills its share, and no more
    for (std::uint32_t i = 0; i < 6; ++i)
        CHECK(t.apply(connFrom(i), nullptr, now, spoofer) == SyncedConns::Applied::Created);
    CHECK(t.apply(connFrom(6), nullptr, now, spoofer) == SyncedConns::Applied::RefusedPerSource);
    // an update of a held entry is no new entry: taken whatever the caps
    CHECK(t.apply(connFrom(0), nullptr, now, spoofer) == SyncedConns::Applied::Updated);
    // the master still has room, up to the total
    for (std::uint32_t i = 100; i < 104; ++i)
        CHECK(t.apply(connFrom(i), nullptr, now, master) == SyncedConns::Applied::Created);
    CHECK(t.apply(connFrom(104), nullptr, now, master) == SyncedConns::Applied::RefusedTotal);
    CHECK(t.size() == 10);
    CHECK(t.budget()->held(SyncBudget::kConnection) == 10);
    // entries that go give their units back: a UDP flow handed over, expiry, a takeover, clear()
    CHECK(t.apply(connFrom(200, 17), nullptr, now, master) == SyncedConns::Applied::RefusedTotal);
    t.sweep(now + std::chrono::seconds(901));
    CHECK(t.size() == 0);
    CHECK(t.budget()->held(SyncBudget::kConnection) == 0);
    CHECK(t.budget()->sources() == 0);
    CHECK(t.apply(connFrom(200, 17), nullptr, now, master) == SyncedConns::Applied::Created);
    CHECK(t.takeUdp(ServiceKey::inet(ip("10.0.0.1"), kUdp, 80), connFrom(200).caddr, 40000));
    CHECK(t.budget()->held(SyncBudget::kConnection) == 0);
    t.apply(connFrom(1), nullptr, now, master);
    t.apply(connFrom(2, 17), nullptr, now, master);
    CHECK(t.dropStreams() == 1);
    CHECK(t.budget()->held(SyncBudget::kConnection) == 1);
    t.clear();
    CHECK(t.budget()->held(SyncBudget::kConnection) == 0);
}

TEST_CASE("synced connections: a stated timeout is the caller's clamp, not the message's 2^32 s") {
    SyncedConns t;
    const auto now = Clock::now();
    auto c = connFrom(1);
    c.timeout = 0xffffffffu;
    t.apply(c, nullptr, now, ip("10.99.0.11"), 900);
    std::vector<ConnEntry> list;
    t.list(list, now);
    REQUIRE(list.size() == 1);
    CHECK(list[0].expires == 900);
}

TEST_CASE("synced connections: the sweep goes a chunk at a time and still covers the whole table") {
    SyncedConns t;
    t.budget()->setLimits(SyncLimits{100000, 100000, 100000});
    const auto now = Clock::now();
    for (std::uint32_t i = 0; i < 5000; ++i) {
        auto c = connFrom(i);
        c.timeout = i % 2 ? 10 : 1000;  // every other one expires at +10 s
        t.apply(c, nullptr, now, ip("10.99.0.11"));
    }
    size_t steps = 0;
    while (!t.sweepStep(now + std::chrono::seconds(11), 100)) {
        ++steps;
        // entries come and go between steps (the lock is let go): the pass still ends
        if (steps == 10) t.apply(connFrom(99999), nullptr, now, ip("10.99.0.11"));
    }
    CHECK(steps >= 49);  // 5,000 entries, at most 100 a step: at least 50 steps
    CHECK(t.size() == 2501);
    CHECK(t.budget()->held(SyncBudget::kConnection) == 2501);
}

TEST_CASE("persistence templates installed by sync count in the budget, per sender, and give it back") {
    auto budget = std::make_shared<SyncBudget>();
    budget->setLimits(SyncLimits{100, 5, 3});
    const auto now = Clock::now();
    const DestKey rs{ip("10.1.0.1"), 80};
    const PersistenceTable::SyncedFrom spoofer{ip("10.99.0.66"), budget}, master{ip("10.99.0.11"), budget};
    {
        PersistenceTable p(std::chrono::seconds(600));
        for (std::uint32_t i = 0; i < 3; ++i)
            CHECK(p.install(IpAddress::v4(0xc6120000 + i), rs, 0, now + std::chrono::seconds(10), &spoofer).refused ==
                  SyncBudget::Refusal::None);
        CHECK(p.install(IpAddress::v4(0xc6120003), rs, 0, now, &spoofer).refused == SyncBudget::Refusal::PerSource);
        CHECK(p.install(IpAddress::v4(0xc6120000), rs, 0, now, &spoofer).refused == SyncBudget::Refusal::None);
        CHECK(p.install(IpAddress::v4(0xc6130000), rs, 0, now, &master).refused == SyncBudget::Refusal::None);
        CHECK(p.install(IpAddress::v4(0xc6130001), rs, 0, now + std::chrono::seconds(1000), &master).refused ==
              SyncBudget::Refusal::None);
        CHECK(p.install(IpAddress::v4(0xc6130002), rs, 0, now, &master).refused == SyncBudget::Refusal::Total);
        CHECK(p.size() == 5);
        CHECK(budget->held(SyncBudget::kTemplate) == 5);
        p.sweep(now + std::chrono::seconds(11), [](const DestKey&) {});
        CHECK(p.size() == 1);
        CHECK(budget->held(SyncBudget::kTemplate) == 1);
    }
    CHECK(budget->held(SyncBudget::kTemplate) == 0);  // the table went (a reload): its units with it
}

TEST_CASE("persistence: binding changes are counted, traffic under a binding is not") {
    // what the forwarding worker's copy in the supervisor follows (director/fwd/PlaneService.h)
    PersistenceTable p(std::chrono::seconds(10));
    const auto now = Clock::now();
    const auto net = ip("192.0.2.0"), other = ip("198.51.100.0");
    const DestKey rs1{ip("10.1.0.1"), 80}, rs2{ip("10.1.0.2"), 80};
    CHECK(p.bindingChanges() == 0);
    p.bind(net, rs1, now);
    CHECK(p.bindingChanges() == 1);
    // more connections, their ends, a state change: the binding is the same
    CHECK(p.use(net, now) == rs1);
    p.release(net, now);
    p.release(net, now);
    p.assure(net);
    CHECK(p.bindingChanges() == 1);
    p.install(other, rs2, PersistenceTable::kNone, now + std::chrono::seconds(5));
    CHECK(p.bindingChanges() == 2);
    p.install(other, rs2, PersistenceTable::kAssured, now + std::chrono::seconds(8));  // refreshed: same binding
    CHECK(p.bindingChanges() == 2);
    p.install(other, rs1, PersistenceTable::kNone, now + std::chrono::seconds(8));  // moved
    CHECK(p.bindingChanges() == 3);
    p.sweep(now + std::chrono::seconds(30), [](const DestKey&) {});  // both expire
    CHECK(p.size() == 0);
    CHECK(p.bindingChanges() == 5);
}
