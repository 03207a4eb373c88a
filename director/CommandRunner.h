// CommandRunner: runs notify and quorum scripts (fire and forget), without a shell, as the script
// user, with a timeout that kills the process group; logs a failure with the script's first line.
// An interface so the director's tests record commands instead of running them.
#pragma once
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "base/Asio.h"
#include "conf/Config.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // `why` says what the command reports ("notify_up for rs ..."), for logs.
    virtual void run(const conf::Command& cmd, const std::string& user, const std::string& why) = 0;
};

class ProcessCommandRunner : public CommandRunner {
public:
    explicit ProcessCommandRunner(asio::io_context& io) : io_(io) {}
    ~ProcessCommandRunner() override;
    void run(const conf::Command& cmd, const std::string& user, const std::string& why) override;

private:
    asio::io_context& io_;
    std::list<std::unique_ptr<healthcheck::ScriptProbe>> running_;
};

class RecordingCommandRunner : public CommandRunner {
public:
    void run(const conf::Command& cmd, const std::string&, const std::string& why) override {
        runs.push_back(why + ": " + cmd.str());
    }
    std::vector<std::string> runs;
};

}  // namespace director
