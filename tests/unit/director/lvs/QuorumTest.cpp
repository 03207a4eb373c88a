// The lvs worker's quorum (director/lvs/Quorum.h): transitions with hysteresis, partial updates,
// services that leave the config, and the operator's disabled servers not counted.
#include <catch2/catch.hpp>

#include "unit/director/ConfigFixture.h"
#include "director/lvs/Quorum.h"

using director::lvs::Quorum;

namespace {

using fixture::load;
using fixture::rsId;

const char* kTwo = R"(
virtual_servers = (
  { address = "10.0.0.1"; port = 80; quorum = 4; hysteresis = 1;
    real_servers = ( { address = "10.0.1.1"; weight = 3; }, { address = "10.0.1.2"; weight = 2; } ); },
  { address = "10.0.0.2"; port = 80; quorum = 1; real_servers = ( { address = "10.0.1.1"; } ); }
);)";

director::lvs::HealthView down(std::initializer_list<director::lvs::RsId> ids) {
    director::lvs::HealthView h;
    for (const auto& i : ids) h.servers[i] = director::lvs::RsHealth{false, std::nullopt, "refused", 1};
    return h;
}

}  // namespace

TEST_CASE("quorum: lost below quorum - hysteresis, regained at quorum + hysteresis, each change once") {
    const auto cfg = load(kTwo);
    const auto web = conf::serviceKey(cfg.virtualServers[0]);
    director::lvs::Quorum q;
    CHECK(q.up(web));  // unknown counts as up
    CHECK(q.update(cfg, {}, {}).empty());
    CHECK(q.states().size() == 2);
    // live 3 (of 5): not below 4 - 1
    CHECK(q.update(cfg, down({rsId(cfg, 0, 1)}), {}).empty());
    // live 2: lost
    auto changes = q.update(cfg, down({rsId(cfg, 0, 0)}), {});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].key == web);
    CHECK_FALSE(changes[0].up);
    CHECK(changes[0].liveWeight == 2);
    CHECK(changes[0].vs == &cfg.virtualServers[0]);
    CHECK_FALSE(q.up(web));
    CHECK(q.lost() == std::set<kmod::ServiceKey>{web});
    CHECK(q.update(cfg, down({rsId(cfg, 0, 0)}), {}).empty());  // no second "lost"
    // live 3: still lost (needs 4 + 1 = 5)
    CHECK(q.update(cfg, down({rsId(cfg, 0, 1)}), {}).empty());
    changes = q.update(cfg, {}, {});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].up);
    CHECK(q.lost().empty());
}

TEST_CASE("quorum: the operator's disabled real servers do not count") {
    const auto cfg = load(kTwo);
    const auto other = conf::serviceKey(cfg.virtualServers[1]);
    director::lvs::Quorum q;
    const auto changes = q.update(cfg, {}, {rsId(cfg, 1, 0)});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].key == other);
    CHECK_FALSE(changes[0].up);
    CHECK(changes[0].liveWeight == 0);
}

TEST_CASE("quorum: a partial update touches only its services; gone services are forgotten") {
    const auto cfg = load(kTwo);
    const auto web = conf::serviceKey(cfg.virtualServers[0]);
    const auto other = conf::serviceKey(cfg.virtualServers[1]);
    director::lvs::Quorum q;
    q.update(cfg, {}, {});
    const std::set<kmod::ServiceKey> onlyOther{other};
    // web's servers are down, but only `other` is recomputed: web keeps its state
    const auto changes = q.update(cfg, down({rsId(cfg, 0, 0), rsId(cfg, 0, 1), rsId(cfg, 1, 0)}), {}, &onlyOther);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].key == other);
    CHECK(q.up(web));
    CHECK(q.lost(&onlyOther) == onlyOther);
    const std::set<kmod::ServiceKey> onlyWeb{web};
    CHECK(q.lost(&onlyWeb).empty());
    // a config without `other`: a full update forgets it
    const auto smaller = load(R"(
virtual_servers = ( { address = "10.0.0.1"; port = 80; quorum = 4; hysteresis = 1;
    real_servers = ( { address = "10.0.1.1"; weight = 3; }, { address = "10.0.1.2"; weight = 2; } ); } );)");
    q.update(smaller, {}, {});
    CHECK(q.states().size() == 1);
    CHECK(q.up(other));  // unknown again
}
