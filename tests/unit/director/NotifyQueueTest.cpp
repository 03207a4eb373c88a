// Notify scripts run one at a time per instance, in transition order; a storm is bounded.
#include <catch2/catch.hpp>

#include "base/Log.h"
#include "director/NotifyQueue.h"

namespace {

// Finishes a command only when the test says so.
struct HeldRunner : director::CommandRunner {
    void run(const conf::Command& cmd, const std::string&, const std::string&, std::function<void()> done) override {
        started.push_back(cmd.argv.at(0));
        pending.push_back(std::move(done));
    }
    void finishOne() {
        auto d = std::move(pending.front());
        pending.erase(pending.begin());
        d();
    }
    std::vector<std::string> started;
    std::vector<std::function<void()>> pending;
};

director::NotifyQueue::Job job(const std::string& a, const std::string& b = "") {
    director::NotifyQueue::Job j{{conf::Command{{a}}, "", a}};
    if (!b.empty()) j.push_back({conf::Command{{b}}, "", b});
    return j;
}

}  // namespace

TEST_CASE("notify queue: one script at a time, in order; each transition's scripts in sequence") {
    HeldRunner r;
    director::NotifyQueue q(r);
    q.push(job("/backup", "/generic-backup"));
    q.push(job("/master", "/generic-master"));
    CHECK(r.started == std::vector<std::string>{"/backup"});  // nothing else until it is done
    r.finishOne();
    CHECK(r.started == std::vector<std::string>{"/backup", "/generic-backup"});
    r.finishOne();
    r.finishOne();
    r.finishOne();
    CHECK(r.started == std::vector<std::string>{"/backup", "/generic-backup", "/master", "/generic-master"});
    CHECK_FALSE(q.busy());
}

TEST_CASE("notify queue: a storm of transitions keeps only the latest waiting ones") {
    base::log::setLevel(base::log::Level::Error);
    HeldRunner r;
    director::NotifyQueue q(r, 4);
    for (int i = 0; i < 100; ++i) q.push(job("/s" + std::to_string(i)));
    CHECK(r.started.size() == 1);  // the first runs; never 100 processes at once
    CHECK(q.waiting() == 4);
    CHECK(q.dropped() == 95);
    while (!r.pending.empty()) r.finishOne();
    CHECK(r.started == std::vector<std::string>{"/s0", "/s96", "/s97", "/s98", "/s99"});
    base::log::setLevel(base::log::Level::Info);
}
