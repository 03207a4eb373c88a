#include "director/NotifyQueue.h"

#include "base/Log.h"

namespace director {

void NotifyQueue::push(Job job) {
    if (job.empty()) return;
    queue_.push_back(std::move(job));
    while (queue_.size() > limit_) {
        if (dropped_++ == 0)
            base::log::warning("vrrp: notify: more than ", limit_,
                               " transitions waiting for their scripts; running"
                               " only the latest ones (",
                               queue_.front().front().why, " skipped; counted)");
        queue_.pop_front();
    }
    if (!busy_) next();
}

void NotifyQueue::next() {
    if (step_ >= current_.size()) {
        if (queue_.empty()) {
            busy_ = false;
            return;
        }
        current_ = std::move(queue_.front());
        queue_.pop_front();
        step_ = 0;
    }
    busy_ = true;
    const Step& s = current_[step_++];
    runner_.run(s.command, s.user, s.why, [this] { next(); });
}

}  // namespace director
