// A CommandRunner that records what it was asked to run (a test double: nothing is executed).
#pragma once
#include <string>
#include <vector>

#include "director/CommandRunner.h"

namespace director {

class RecordingCommandRunner : public CommandRunner {
public:
    void run(const conf::Command& cmd, const std::string&, const std::string& why,
             std::function<void()> done = nullptr) override {
        runs.push_back(why + ": " + cmd.str());
        if (done) done();
    }
    std::vector<std::string> runs;
};

}  // namespace director
