#include <catch2/catch.hpp>

#include "../../kmod/IpvsTableContract.h"
#include "base/Log.h"
#include "director/lvs/Reconciler.h"
#include "kmod/Diff.h"
#include "kmod/memory/InMemoryIpvsTable.h"

using kmod::Op;
using testutil::dest;
using testutil::tcpService;

namespace {
std::vector<std::string>* gLines = nullptr;
void capture(base::log::Level, const std::string& line) {
    if (gLines) gLines->push_back(line);
}
struct LogCapture {
    std::vector<std::string> lines;
    LogCapture() {
        gLines = &lines;
        base::log::setSink(capture);
    }
    ~LogCapture() {
        base::log::setSink(nullptr);
        gLines = nullptr;
    }
    bool contains(const std::string& s) const {
        for (const auto& l : lines)
            if (l.find(s) != std::string::npos) return true;
        return false;
    }
};

kmod::TableState twoServices() {
    kmod::TableState t;
    const auto a = tcpService("10.0.0.1", 80), b = tcpService("10.0.0.2", 443);
    t.addService(a);
    t.addDest(a.key, dest("10.0.1.1", 80, 2));
    t.addDest(a.key, dest("10.0.1.2", 80, 1));
    t.addService(b);
    t.addDest(b.key, dest("10.0.1.1", 443));
    return t;
}
}  // namespace

TEST_CASE("reconciler applies the desired table and then only deltas") {
    LogCapture log;
    kmod::memory::InMemoryIpvsTable table;
    director::lvs::Reconciler rec(table);
    auto out = rec.setDesired(twoServices());
    CHECK(out.ops.size() == 5);
    CHECK(*table.dump() == twoServices());
    auto next = twoServices();
    next.services.begin()->second.dests.begin()->second.weight = 9;
    out = rec.setDesired(next);
    REQUIRE(out.ops.size() == 1);
    CHECK(out.ops[0].kind == Op::Kind::EditDest);
    CHECK(rec.setDesired(next).ops.empty());
}

TEST_CASE("resync repairs drift and leaves services added by hand alone") {
    LogCapture log;
    kmod::memory::InMemoryIpvsTable table;
    director::lvs::Reconciler rec(table);
    rec.setDesired(twoServices());
    // An operator adds a service of their own with ipvsadm, and deletes one of ours by hand.
    const auto foreign = tcpService("192.0.2.1", 25);
    table.state().addService(foreign);
    table.state().services.begin()->second.dests.erase(table.state().services.begin()->second.dests.begin());
    auto out = rec.resync();
    REQUIRE(out.ops.size() == 1);
    CHECK(out.ops[0].kind == Op::Kind::AddDest);
    CHECK(rec.repairs() == 1);
    CHECK(log.contains("ipvs: repairing drift: add-dest TCP  10.0.0.1:80 -> 10.0.1.1:80 weight 2"));
    CHECK(table.state().services.contains(foreign.key));
    // ipvsadm -C: everything comes back, the foreign service does not (it was flushed by its owner).
    table.flush();
    out = rec.resync();
    CHECK(out.ops.size() == 5);
    CHECK(*table.dump() == twoServices());
}

TEST_CASE("a service removed from the config is deleted; release keeps foreign services") {
    LogCapture log;
    kmod::memory::InMemoryIpvsTable table;
    director::lvs::Reconciler rec(table);
    rec.setDesired(twoServices());
    const auto foreign = tcpService("192.0.2.1", 25);
    table.state().addService(foreign);
    auto less = twoServices();
    less.services.erase(less.services.begin());
    auto out = rec.setDesired(less);
    REQUIRE(out.ops.size() == 1);
    CHECK(out.ops[0].kind == Op::Kind::DelService);
    rec.releaseOwned();
    REQUIRE(table.state().services.size() == 1);
    CHECK(table.state().services.contains(foreign.key));
}

TEST_CASE("refused ops are logged with the op and errno and retried at the next resync") {
    LogCapture log;
    kmod::memory::InMemoryIpvsTable table;
    director::lvs::Reconciler rec(table);
    bool refuse = true;
    table.injectFailures([&](const Op& op) {
        return refuse && op.kind == Op::Kind::AddDest ? std::error_code(ENOMEM, std::generic_category())
                                                      : std::error_code{};
    });
    auto out = rec.setDesired(twoServices());
    CHECK(out.result.failed == 3);
    CHECK(log.contains(
        "3 of 5 ops refused; first: add-dest TCP  10.0.0.1:80 -> 10.0.1.1:80 weight 2: Cannot allocate memory"));
    refuse = false;
    out = rec.resync();
    CHECK(out.result.applied == 3);
    CHECK(*table.dump() == twoServices());
}

TEST_CASE("a failed dump applies nothing and says so") {
    LogCapture log;
    kmod::memory::InMemoryIpvsTable table;
    director::lvs::Reconciler rec(table);
    table.failDump(std::error_code(EIO, std::generic_category()));
    auto out = rec.setDesired(twoServices());
    CHECK_FALSE(out.dumped);
    CHECK(table.opLog().empty());
    CHECK(log.contains("cannot read the memory table"));
}
