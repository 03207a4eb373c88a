// NotifyQueue: one VRRP instance's (or sync group's) notify scripts, run one at a time in the order
// of its transitions (keepalived runs them concurrently and users see them out of order). The
// queue is bounded: past `limit` waiting transitions the oldest waiting ones are dropped, so a
// storm of transitions ends with the scripts of the latest state, never with a fork storm.
#pragma once
#include <deque>
#include <string>
#include <vector>

#include "conf/Config.h"
#include "director/CommandRunner.h"

namespace director {

class NotifyQueue {
public:
    struct Step {
        conf::Command command;
        std::string user, why;
    };
    using Job = std::vector<Step>;  // one transition's scripts, in order

    explicit NotifyQueue(CommandRunner& runner, size_t limit = 8) : runner_(runner), limit_(limit) {}
    NotifyQueue(const NotifyQueue&) = delete;
    NotifyQueue& operator=(const NotifyQueue&) = delete;
    void push(Job job);
    size_t waiting() const { return queue_.size(); }
    std::uint64_t dropped() const { return dropped_; }
    bool busy() const { return busy_; }

private:
    void next();
    CommandRunner& runner_;
    size_t limit_;
    std::deque<Job> queue_;
    Job current_;
    size_t step_ = 0;
    bool busy_ = false;
    std::uint64_t dropped_ = 0;
};

}  // namespace director
