// Helpers the director unit tests share: a config from text (failing the test on any error, with
// the diagnostics), and a real server's id by its place in the config.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "conf/Loader.h"
#include "conf/ToModel.h"
#include "director/lvs/DesiredState.h"

namespace fixture {

inline conf::Config load(const std::string& text) {
    conf::LoadResult r = conf::loadString(text, "t.conf");
    std::string diagnostics;
    for (const auto& d : r.diagnostics) diagnostics += d.str() + "\n";
    INFO(diagnostics);
    REQUIRE(r.ok());
    return *r.config;
}

// The real server `rs` of virtual server `vs` (indexes in the config's lists).
inline director::lvs::RsId rsId(const conf::Config& cfg, size_t vs, size_t rs) {
    const auto& v = cfg.virtualServers.at(vs);
    const auto& r = v.realServers.at(rs);
    return {conf::serviceKey(v), kmod::DestKey{r.address, static_cast<std::uint16_t>(r.port)}};
}

}  // namespace fixture
