// The config loader: libconfig syntax (one file plus @include, resolved relative to the main file's
// folder), then every setting type- and range-checked, then cross-references (Validate.h). All
// problems are collected; nothing throws past loadFile/loadString.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

struct LoadResult {
    std::optional<Config> config;  // set only when there are no diagnostics
    Diagnostics diagnostics;
    // The parsed file itself, freed with the result: tearing down a big one takes a while, so a
    // caller in a hurry (the supervisor on SIGHUP) may keep it until its work is out.
    std::shared_ptr<void> parsed;
    bool ok() const { return config.has_value(); }
};

LoadResult loadFile(const std::string& path);
// `name` stands for the file in diagnostics; @include resolves against `includeDir`.
LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir = ".");

}  // namespace conf
