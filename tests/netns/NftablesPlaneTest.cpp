// The nftables plane against the real nf_tables of this kernel (root): the test moves itself into a
// network namespace of its own first, so it never sees or touches the host's ruleset. The IpvsTable
// contract; the schedules the kernel holds (read back from the table) equal kmod's schedulers, so
// mh equals ip_vs_mh's table; one apply is one transaction; drift is repaired; persistence
// templates of a removed destination go; what nftables cannot express is refused.
#define CATCH_CONFIG_RUNNER
#include <sched.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <sstream>

#include "../unit/kmod/IpvsTableContract.h"
#include "kmod/nftables/Nft.h"
#include "kmod/nftables/NftablesIpvsTable.h"
#include "kmod/sched/Schedulers.h"

using kmod::Op;

namespace {

std::unique_ptr<kmod::nftables::NftablesIpvsTable> openPlane(bool sourceNat = false) {
    std::string why;
    auto t = kmod::nftables::NftablesIpvsTable::open(kmod::nftables::RulesetOptions{"directord", sourceNat}, why);
    INFO(why);
    REQUIRE(t);
    return t;
}

std::string list(const std::string& what) {
    kmod::nftables::Nft nft;
    auto r = nft.list(what, true);
    return r ? *r : std::string();
}

// The destinations of a chain's map, slot by slot: "0-2 : 10.0.1.1 . 80, 3 : ..." expanded.
std::vector<std::string> slots(const std::string& chain) {
    const std::string text = list("chain inet directord " + chain);
    const auto open = text.find("map {");
    if (open == std::string::npos) return {};
    std::string body = text.substr(open + 5, text.find('}', open) - open - 5);
    for (char& c : body)
        if (c == '\n' || c == '\t') c = ' ';
    std::vector<std::string> out;
    std::stringstream ss(body);
    for (std::string item; std::getline(ss, item, ',');) {
        const auto colon = item.find(" : ");
        std::stringstream k(item.substr(0, colon));
        std::string range;
        k >> range;
        const auto dash = range.find('-');
        const size_t lo = std::stoul(range.substr(0, dash));
        const size_t hi = dash == std::string::npos ? lo : std::stoul(range.substr(dash + 1));
        std::string v = item.substr(colon + 3);
        while (!v.empty() && v.back() == ' ') v.pop_back();
        if (out.size() <= hi) out.resize(hi + 1);
        for (size_t i = lo; i <= hi; ++i) out[i] = v;
    }
    return out;
}

kmod::Service svc(const char* sched, std::uint16_t port = 80) { return testutil::tcpService("10.0.0.1", port, sched); }

}  // namespace

TEST_CASE("IpvsTable contract: nftables") {
    testutil::ipvsTableContract([] { return std::unique_ptr<kmod::IpvsTable>(openPlane()); }, true, "rr");
}

TEST_CASE("nftables: the mh table the kernel holds is ip_vs_mh's (servers in address order); wrr the kernel's sequence") {
    auto t = openPlane();
    const auto mh = svc("mh", 80);
    const auto wrr = svc("wrr", 81);
    std::vector<Op> ops{Op{Op::Kind::AddService, mh, {}}, Op{Op::Kind::AddService, wrr, {}}};
    std::vector<kmod::sched::SchedDest> dests;  // the kernel's list order: newest first
    std::vector<kmod::sched::SchedDest> canon;  // mh on this plane: by address (NftRuleset.cpp says why)
    for (int i = 1; i <= 5; ++i) {
        const std::string a = "10.0.1." + std::to_string(i);
        ops.push_back(Op{Op::Kind::AddDest, mh, testutil::dest(a.c_str(), 8080, static_cast<std::uint32_t>(i))});
        ops.push_back(Op{Op::Kind::AddDest, wrr, testutil::dest(a.c_str(), 8080, static_cast<std::uint32_t>(i))});
        dests.insert(dests.begin(), kmod::sched::SchedDest{*base::IpAddress::parse(a), 8080, i});
        canon.push_back(kmod::sched::SchedDest{*base::IpAddress::parse(a), 8080, i});
    }
    REQUIRE(t->apply(ops).ok());
    CHECK(t->transactions() == 1);
    kmod::sched::Maglev maglev(0);
    maglev.update(canon);
    std::vector<std::string> want;
    for (int i : maglev.table()) want.push_back(canon[static_cast<size_t>(i)].address.str() + " . 8080");
    CHECK(slots("svc_1") == want);
    auto w = kmod::sched::makeScheduler("wrr", 0);
    w->update(dests);
    std::vector<std::string> seq;
    for (int i = 0; i < 15; ++i) seq.push_back(dests[*w->pick(dests, kmod::sched::SchedPacket{})].address.str() + " . 8080");
    CHECK(slots("svc_2") == seq);

    // quiesced: a weight-0 destination is out of the schedule, its mh slots unserved
    REQUIRE(t->apply({Op{Op::Kind::EditDest, mh, testutil::dest("10.0.1.3", 8080, 0)},
                      Op{Op::Kind::EditDest, wrr, testutil::dest("10.0.1.3", 8080, 0)}})
                .ok());
    CHECK(t->transactions() == 2);  // two services, one transaction
    dests[2].weight = 0;
    dests[2].lastWeight = 3;
    canon[2].weight = 0;
    canon[2].lastWeight = 3;
    maglev.update(canon);
    const auto held = slots("svc_1");
    REQUIRE(held.size() == want.size());
    for (size_t i = 0; i < held.size(); ++i) {
        const int d = maglev.table()[i];
        CHECK(held[i] == (canon[static_cast<size_t>(d)].weight > 0 ? want[i] : std::string()));
    }
    for (const auto& s : slots("svc_2")) CHECK(s != "10.0.1.3 . 8080");
    CHECK(slots("svc_2").size() == 12);
}

TEST_CASE("nftables: sh and mh hash by the set of servers, not the order they came in") {
    // a restarted lvs worker, a reload, the peer director: each builds its rules from its own list
    // order (the history of servers leaving and coming back); a client must hash the same
    auto t = openPlane();
    int id = 0;  // the chains' numbers, in the order services come
    for (const char* sched : {"mh", "sh"}) {
        const auto first = svc(sched, static_cast<std::uint16_t>(80 + id)), second = svc(sched, static_cast<std::uint16_t>(81 + id));
        std::vector<Op> ops{Op{Op::Kind::AddService, first, {}}, Op{Op::Kind::AddService, second, {}}};
        for (int i = 1; i <= 5; ++i) {
            const std::string up = "10.0.1." + std::to_string(i), down = "10.0.1." + std::to_string(6 - i);
            ops.push_back(Op{Op::Kind::AddDest, first, testutil::dest(up.c_str(), 8080, static_cast<std::uint32_t>(i))});
            ops.push_back(
                Op{Op::Kind::AddDest, second, testutil::dest(down.c_str(), 8080, static_cast<std::uint32_t>(6 - i))});
        }
        REQUIRE(t->apply(ops).ok());
        INFO(sched);
        const auto a = slots("svc_" + std::to_string(id + 1)), b = slots("svc_" + std::to_string(id + 2));
        id += 2;
        CHECK(a.size() >= 256);
        CHECK(a == b);
    }
}

TEST_CASE("nftables: drift is repaired; persistence templates of a removed destination go") {
    auto t = openPlane(true);
    auto s = svc("rr");
    s.flags = kmod::kSvcPersistent;
    s.timeout = 300;
    s.netmask = 0xffffff00;
    REQUIRE(t->apply({Op{Op::Kind::AddService, s, {}}, Op{Op::Kind::AddDest, s, testutil::dest("10.0.1.1", 8080)},
                      Op{Op::Kind::AddDest, s, testutil::dest("10.0.1.2", 8080)}})
                .ok());
    CHECK(list("table inet directord").find("masquerade") != std::string::npos);
    kmod::nftables::Nft nft;
    REQUIRE_FALSE(
        nft.run("add element inet directord persist_1 { 192.0.2.0 : 10.0.1.1 . 8080, 198.51.100.0 : "
                "10.0.1.2 . 8080 }"));
    REQUIRE(t->connections());
    CHECK(t->connections()->size() == 2);  // the templates, as ipvsadm -Lnc lists them
    CHECK(t->connections()->at(0).state == "NONE");
    REQUIRE(t->apply({Op{Op::Kind::DelDest, s, testutil::dest("10.0.1.1", 8080)}}).ok());
    const std::string persist = list("map inet directord persist_1");
    CHECK(persist.find("198.51.100.0") != std::string::npos);
    CHECK(persist.find("192.0.2.0") == std::string::npos);
    // the templates did not count as drift; a deleted rule does
    CHECK(t->dump()->services.size() == 1);
    REQUIRE_FALSE(nft.run("flush chain inet directord svc_1"));
    CHECK(t->dump()->services.empty());
    REQUIRE(
        t->apply({Op{Op::Kind::AddService, s, {}}, Op{Op::Kind::AddDest, s, testutil::dest("10.0.1.2", 8080)}}).ok());
    CHECK(slots("svc_2") == std::vector<std::string>{"10.0.1.2 . 8080"});
    REQUIRE_FALSE(nft.run("delete table inet directord"));
    CHECK(t->dump()->services.empty());
    REQUIRE(
        t->apply({Op{Op::Kind::AddService, s, {}}, Op{Op::Kind::AddDest, s, testutil::dest("10.0.1.2", 8080)}}).ok());
    CHECK(t->dump()->services.size() == 1);
    CHECK(list("table inet directord").find("dispatch4") != std::string::npos);
}

TEST_CASE("nftables: what it cannot express is refused, and nothing changes") {
    auto t = openPlane();
    auto r = t->apply({Op{Op::Kind::AddService, svc("wlc"), {}}});
    REQUIRE(r.firstFailure);
    CHECK(r.firstFailure->error.value() == EOPNOTSUPP);
    auto dr = testutil::dest("10.0.1.1", 80);
    dr.forwarding = kmod::Forwarding::Route;
    r = t->apply({Op{Op::Kind::AddService, svc("rr"), {}}, Op{Op::Kind::AddDest, svc("rr"), dr}});
    CHECK(r.applied == 1);
    CHECK(r.firstFailure->error.value() == EOPNOTSUPP);
    CHECK(t->dump()->services.at(svc("rr").key).dests.empty());
}

int main(int argc, char** argv) {
    if (::unshare(CLONE_NEWNET) != 0) {
        std::perror("unshare(CLONE_NEWNET) (this test needs root)");
        return 1;
    }
    return Catch::Session().run(argc, argv);
}
