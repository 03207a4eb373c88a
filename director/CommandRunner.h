// CommandRunner: runs notify and quorum scripts, without a shell, as the script user, with a
// timeout that kills the process group; logs a failure with the script's first line; tells the
// caller when the command is over (notify scripts run one at a time per instance). An interface
// so the director's tests record commands instead of running them.
#pragma once
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "conf/Config.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // `why` says what the command reports ("notify_up for rs ..."), for logs. `done` runs (from the
    // event loop) once the command has finished or failed to start.
    virtual void run(const conf::Command& cmd, const std::string& user, const std::string& why,
                     std::function<void()> done = nullptr) = 0;
    // The users commands will run as, looked up now (at load), not when each command starts.
    virtual void resolve(const std::set<std::string>& users) { (void)users; }
    // global.script_security: commands that run as root must pass base::safeForRoot.
    virtual void setScriptSecurity(bool on) { (void)on; }
    // Commands started and not finished yet (shutdown waits for them).
    virtual size_t running() const { return 0; }
};

class ProcessCommandRunner : public CommandRunner {
public:
    explicit ProcessCommandRunner(asio::io_context& io) : io_(io) {}
    ~ProcessCommandRunner() override;
    void run(const conf::Command& cmd, const std::string& user, const std::string& why,
             std::function<void()> done = nullptr) override;
    void resolve(const std::set<std::string>& users) override;
    void setScriptSecurity(bool on) override { scriptSecurity_ = on; }
    size_t running() const override { return running_.size(); }

private:
    const healthcheck::Credentials* credentials(const std::string& user, std::string& why);
    asio::io_context& io_;
    std::list<std::unique_ptr<healthcheck::ScriptProbe>> running_;
    std::map<std::string, std::optional<healthcheck::Credentials>> users_;
    bool scriptSecurity_ = true;
};

// Calls `then` once `r` has no command running (checked twice, 20 ms apart: a queued notify
// starts when the one before it ends), or after `bound`, whichever is first. directord's
// shutdown uses it so omega and stop scripts run to completion.
void afterCommands(asio::io_context& io, const CommandRunner& r, std::chrono::milliseconds bound,
                   std::function<void()> then);

}  // namespace director
