#include "director/CommandRunner.h"

#include <unistd.h>

#include "base/Log.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

ProcessCommandRunner::~ProcessCommandRunner() = default;

void ProcessCommandRunner::run(const conf::Command& cmd, const std::string& user, const std::string& why) {
    if (cmd.empty()) return;
    healthcheck::ScriptSpec spec{cmd.argv, ::geteuid() == 0 ? user : "", std::chrono::seconds(60), false};
    running_.push_back(std::make_unique<healthcheck::ScriptProbe>(io_, spec));
    auto it = std::prev(running_.end());
    (*it)->run([this, it, why, cmd](healthcheck::ProbeResult r) {
        if (!r.ok()) base::log::warning("script: ", why, ": ", cmd.str(), " failed: ", r.describe());
        // Destroy the probe outside its own completion handler.
        asio::post(io_, [this, it] { running_.erase(it); });
    });
}

}  // namespace director
