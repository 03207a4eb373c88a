#include "director/ReloadCheck.h"

#include "conf/Loader.h"
#include "conf/Validate.h"

namespace director {

ReloadCheck checkReload(const conf::Config& running, conf::DataPlane plane) {
    ReloadCheck out;
    conf::LoadResult next = conf::loadFile(running.file);
    if (next.ok() && next.config->global.dataPlane != conf::DataPlane::Nftables) {
        next.diagnostics = conf::planeProblems(*next.config, plane);  // explicit "nftables" was checked at load
        if (!next.diagnostics.empty()) next.config.reset();
    }
    if (!next.ok()) {
        for (const auto& d : next.diagnostics) out.errors.push_back(d.str());
        out.errors.push_back(std::to_string(next.diagnostics.size()) + " error(s) in " + running.file +
                             "; keeping the running configuration (fix the file and reload again)");
        return out;
    }
    if (conf::definesNothing(*next.config) && !conf::definesNothing(running) && !next.config->global.allowEmpty) {
        out.errors.push_back(running.file +
                             " defines no virtual servers and no VRRP instances (empty, or cut short?); keeping the"
                             " running configuration. To really remove everything, set global.allow_empty = true");
        return out;
    }
    out.config = std::move(next.config);
    return out;
}

}  // namespace director
