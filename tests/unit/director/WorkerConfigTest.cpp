// What each worker is given of the config (director/Supervisor.h workerConfig): the lvs worker all
// of it, the vrrp and forwarding workers no virtual servers, the status worker `global` alone.
#include <catch2/catch.hpp>

#include "conf/Loader.h"
#include "director/Supervisor.h"

TEST_CASE("the config each worker is given is cut by one function") {
    const auto r = conf::loadFile(std::string(DIRECTORD_SOURCE_DIR) + "/tests/corpus/good/full.conf");
    REQUIRE(r.ok());
    const conf::Config& full = *r.config;
    REQUIRE_FALSE(full.virtualServers.empty());
    REQUIRE_FALSE(full.vrrpInstances.empty());
    REQUIRE_FALSE(full.vrrpScripts.empty());
    REQUIRE_FALSE(full.syncGroups.empty());
    REQUIRE_FALSE(full.trackFiles.empty());
    using director::privileges::Worker;

    CHECK(director::workerConfig(Worker::Lvs, full) == full);

    for (Worker w : {Worker::Vrrp, Worker::Fwd}) {
        const auto cut = director::workerConfig(w, full);
        CHECK(cut.file == full.file);
        CHECK(cut.global == full.global);
        CHECK(cut.vrrpScripts == full.vrrpScripts);
        CHECK(cut.trackFiles == full.trackFiles);  // instances track them
        CHECK(cut.vrrpInstances == full.vrrpInstances);
        CHECK(cut.syncGroups == full.syncGroups);
        CHECK(cut.virtualServers.empty());
    }

    const auto status = director::workerConfig(Worker::Status, full);
    CHECK(status.file == full.file);
    CHECK(status.global == full.global);
    CHECK(status.vrrpScripts.empty());
    CHECK(status.trackFiles.empty());
    CHECK(status.vrrpInstances.empty());
    CHECK(status.syncGroups.empty());
    CHECK(status.virtualServers.empty());
}
