// The config loader: libconfig syntax (one file plus @include, resolved relative to the main file's
// folder), then every setting type- and range-checked, then cross-references (Validate.h). All
// problems are collected; nothing throws past loadFile/loadString.
#pragma once
#include <optional>
#include <string>

#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

struct LoadResult {
    std::optional<Config> config;  // set only when there are no diagnostics
    Diagnostics diagnostics;
    bool ok() const { return config.has_value(); }
};

LoadResult loadFile(const std::string& path);
// `name` stands for the file in diagnostics; @include resolves against `includeDir`.
LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir = ".");

}  // namespace conf
