// ReloadCheck: the first half of a reload (parse and validate), shared by the supervisor (SIGHUP,
// directorctl reload) and --single-process. Nothing live changes here: the caller commits the
// config it returns, or keeps the running one and reports every error it returns.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "conf/Config.h"

namespace director {

struct ReloadCheck {
    std::optional<conf::Config> config;  // set: valid, to be applied
    std::vector<std::string> errors;     // otherwise: every diagnostic, then why the running config stays
};

// Reads `running.file` again and checks it, also against the data plane in use (`plane`: what
// `auto` chose cannot change until a restart); refuses a file that defines nothing while the
// running config defines something, unless it sets global.allow_empty (an empty or cut-short file
// would remove every service and VIP).
ReloadCheck checkReload(const conf::Config& running, conf::DataPlane plane);

}  // namespace director
