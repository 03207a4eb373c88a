#include "base/Clock.h"

namespace base {
namespace {

class AsioTimer : public Timer {
public:
    explicit AsioTimer(asio::io_context& io) : timer_(io), alive_(std::make_shared<bool>(true)) {}
    ~AsioTimer() override { *alive_ = false; }
    void schedule(Duration after, std::function<void()> fn) override {
        timer_.expires_after(after);
        const std::uint64_t gen = ++generation_;
        pending_ = true;
        std::weak_ptr<bool> alive = alive_;
        timer_.async_wait([this, alive, gen, fn = std::move(fn)](const boost::system::error_code& ec) {
            auto a = alive.lock();
            if (!a || !*a || ec || gen != generation_) return;
            pending_ = false;
            fn();
        });
    }
    void cancel() override {
        ++generation_;
        pending_ = false;
        timer_.cancel();
    }
    bool pending() const override { return pending_; }

private:
    asio::steady_timer timer_;
    std::shared_ptr<bool> alive_;
    std::uint64_t generation_ = 0;
    bool pending_ = false;
};

}  // namespace

std::unique_ptr<Timer> AsioTimerFactory::makeTimer() { return std::make_unique<AsioTimer>(io_); }

class ManualTimer : public Timer {
public:
    explicit ManualTimer(ManualClock& c) : clock_(c) {}
    ~ManualTimer() override { cancel(); }
    void schedule(Duration after, std::function<void()> fn) override {
        cancel();
        key_ = clock_.add(
            after,
            [this, fn = std::move(fn)] {
                armed_ = false;
                fn();
            },
            this);
        armed_ = true;
    }
    void cancel() override {
        if (armed_) clock_.remove(key_);
        armed_ = false;
    }
    bool pending() const override { return armed_; }

private:
    ManualClock& clock_;
    ManualClock::Key key_{};
    bool armed_ = false;
};

std::unique_ptr<Timer> ManualClock::makeTimer() { return std::make_unique<ManualTimer>(*this); }

ManualClock::Key ManualClock::add(Duration after, std::function<void()> fn, void* owner) {
    Key k{now_ + (after < Duration::zero() ? Duration::zero() : after), seq_++};
    queue_.emplace(k, Entry{std::move(fn), owner});
    return k;
}

void ManualClock::advance(Duration d) {
    const TimePoint end = now_ + d;
    while (!queue_.empty() && queue_.begin()->first.first <= end) {
        auto it = queue_.begin();
        now_ = it->first.first;
        auto fn = std::move(it->second.fn);
        queue_.erase(it);
        fn();
    }
    now_ = end;
}

}  // namespace base
