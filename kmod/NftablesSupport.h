// What the nftables plane (kmod/nftables/) can express exactly, as pure rules on the model: the
// config's validation (conf/Validate.cpp), `auto`'s choice of plane and the plane itself ask here.
#pragma once
#include <optional>
#include <string>

#include "kmod/Model.h"

namespace kmod {

// Why a service, or a destination of it, cannot be on the nftables plane; nullopt when it can.
std::optional<std::string> nftablesUnsupported(const Service& s);
std::optional<std::string> nftablesUnsupported(const Service& s, const Dest& d);

}  // namespace kmod
