// The announcing part's decision: which VIPs are announced, and why each other one is not.
#include <catch2/catch.hpp>

#include "director/lvs/Announcer.h"
#include "unit/director/ConfigFixture.h"

using director::lvs::Announcement;
using director::lvs::decideAnnouncements;

namespace {

const char* kTwoVips = R"(
global = { announce = { table = 100; vrrp_instance = "VI_1"; }; };
vrrp_instances = ( { name = "VI_1"; interface = "lo"; virtual_router_id = 7; priority = 100;
                     virtual_addresses = ( "10.0.0.1" ); } );
virtual_servers = (
  { address = "10.0.0.2"; port = 80; real_servers = ( { address = "10.0.1.1"; } ); },
  { address = "10.0.0.2"; port = 443; real_servers = ( { address = "10.0.1.1"; } ); },
  { address = "10.0.0.1"; port = 80; real_servers = ( { address = "10.0.1.2"; } ); },
  { fwmark = 5; real_servers = ( { address = "10.0.1.3"; } ); }
);)";

const Announcement& of(const std::vector<Announcement>& all, const char* vip) {
    for (const auto& a : all)
        if (a.vip.str() == vip) return a;
    FAIL("no announcement for " << vip);
    return all.front();
}

}  // namespace

TEST_CASE("announce: one row per VIP in address order, fwmark services have none") {
    const auto cfg = fixture::load(kTwoVips);
    const auto out = decideAnnouncements(cfg, {}, false, {{"VI_1", ::vrrp::State::Master}});
    REQUIRE(out.size() == 2);
    CHECK(out[0].vip.str() == "10.0.0.1");
    CHECK(out[1].vip.str() == "10.0.0.2");
    for (const auto& a : out) {
        CHECK(a.announced);
        CHECK(a.why == "announced");
    }
}

TEST_CASE("announce: a VIP goes when any of its services loses quorum, and says which") {
    const auto cfg = fixture::load(kTwoVips);
    std::map<kmod::ServiceKey, bool> quorum;
    quorum[conf::serviceKey(cfg.virtualServers[1])] = false;
    const auto out = decideAnnouncements(cfg, quorum, false, {{"VI_1", ::vrrp::State::Master}});
    CHECK_FALSE(of(out, "10.0.0.2").announced);
    CHECK(of(out, "10.0.0.2").why == "quorum lost on " + cfg.virtualServers[1].str());
    CHECK(of(out, "10.0.0.1").announced);
}

TEST_CASE("announce: withdrawn, not master, not started, and off each hold every VIP back") {
    auto cfg = fixture::load(kTwoVips);
    auto out = decideAnnouncements(cfg, {}, true, {{"VI_1", ::vrrp::State::Master}});
    CHECK_FALSE(of(out, "10.0.0.1").announced);
    CHECK(of(out, "10.0.0.1").why == "the director is withdrawn (directorctl rejoin)");

    out = decideAnnouncements(cfg, {}, false, {{"VI_1", ::vrrp::State::Backup}});
    CHECK_FALSE(of(out, "10.0.0.2").announced);
    CHECK(of(out, "10.0.0.2").why == "VRRP instance VI_1 is BACKUP");

    out = decideAnnouncements(cfg, {}, false, {});
    CHECK(of(out, "10.0.0.2").why == "VRRP instance VI_1 is not started");

    cfg.global.announce.enabled = false;
    out = decideAnnouncements(cfg, {}, false, {{"VI_1", ::vrrp::State::Master}});
    CHECK_FALSE(of(out, "10.0.0.1").announced);
    CHECK(of(out, "10.0.0.1").why == "announce is off");
}

TEST_CASE("announce: the part without a table decides but touches no route") {
    const auto cfg = fixture::load(kTwoVips);
    director::lvs::Announcing part;
    conf::AnnounceConfig off;
    part.configure(off, false);
    CHECK_FALSE(part.active());
    part.update(cfg, {}, false, {{"VI_1", ::vrrp::State::Master}});
    REQUIRE(part.announcements().size() == 2);
    CHECK(part.announcements()[0].announced);
}
