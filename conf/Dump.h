// The canonical form of a Config: libconfig text with every default filled in, in a fixed order.
// Loading it back gives an equal Config (tested), so it is also what `directord --dump-config` shows
// an operator who wants to know what a setting they left out resolves to.
#pragma once
#include <string>

#include "conf/Config.h"

namespace conf {

std::string dump(const Config& cfg);
// Only what differs from the defaults (and what is required): what a person would write. Loads
// back equal too.
std::string dumpMinimal(const Config& cfg);

}  // namespace conf
