#include "IpvsTableContract.h"
#include "kmod/memory/InMemoryIpvsTable.h"

TEST_CASE("IpvsTable contract: in-memory table") {
    testutil::ipvsTableContract([] { return std::make_unique<kmod::memory::InMemoryIpvsTable>(); });
}

TEST_CASE("in-memory table: op log and injected failures") {
    kmod::memory::InMemoryIpvsTable t;
    const auto s = testutil::tcpService("10.0.0.1", 80);
    t.injectFailures([](const kmod::Op& op) {
        return op.kind == kmod::Op::Kind::AddDest ? std::error_code(ENOMEM, std::generic_category())
                                                  : std::error_code{};
    });
    auto r =
        t.apply({{kmod::Op::Kind::AddService, s, {}}, {kmod::Op::Kind::AddDest, s, testutil::dest("10.0.1.1", 80)}});
    CHECK(r.applied == 1);
    REQUIRE(r.firstFailure);
    CHECK(r.firstFailure->error.value() == ENOMEM);
    CHECK(t.opLog().size() == 2);
    t.failDump(std::error_code(EIO, std::generic_category()));
    CHECK_FALSE(t.dump());
}
