// The validated configuration as bytes (base/Wire.h), for the supervisor to hand a reloaded
// config to its workers without their reading or parsing the file again. Every struct of
// Config.h lists its members once, in Codec.cpp; the round trip is tested on the full corpus.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "conf/Config.h"

namespace conf {

std::string encodeConfig(const Config& c);
// nullopt when the bytes are not one whole Config.
std::optional<Config> decodeConfig(std::string_view bytes);

}  // namespace conf
