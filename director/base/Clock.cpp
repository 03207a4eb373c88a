#include "base/Clock.h"

#include <algorithm>
#include <vector>

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

struct CoalescedTimerFactory::State : std::enable_shared_from_this<State> {
    struct Slot {
        std::function<void()> fn;
        std::uint64_t generation = 0;  // bumped by every schedule, cancel and release
        bool pending = false;
        bool live = false;
    };
    struct Entry {
        TimePoint due;
        std::uint64_t seq;
        std::uint32_t slot;
        std::uint64_t generation;
        bool operator>(const Entry& o) const { return due != o.due ? due > o.due : seq > o.seq; }
    };
    State(asio::io_context& io, Duration g) : timer(io), grain(g) {}

    asio::steady_timer timer;
    Duration grain;
    std::vector<Slot> slots;
    std::vector<std::uint32_t> freeSlots;
    std::vector<Entry> heap;  // min-heap on (due, seq)
    std::uint64_t seq = 0;
    std::size_t liveEntries = 0;  // entries whose slot generation still matches
    TimePoint armed = TimePoint::max();
    bool closed = false;

    std::uint32_t acquire() {
        std::uint32_t i;
        if (!freeSlots.empty()) {
            i = freeSlots.back();
            freeSlots.pop_back();
        } else {
            i = static_cast<std::uint32_t>(slots.size());
            slots.emplace_back();
        }
        slots[i].live = true;
        return i;
    }
    void release(std::uint32_t i) {
        unschedule(i);
        slots[i].live = false;
        freeSlots.push_back(i);
    }
    void unschedule(std::uint32_t i) {
        Slot& s = slots[i];
        if (s.pending) --liveEntries;
        ++s.generation;
        s.pending = false;
        s.fn = nullptr;
    }
    TimePoint roundUp(TimePoint t) const {
        const auto since = t.time_since_epoch();
        const auto r = since % grain;
        return r == Duration::zero() ? t : t + (grain - r);
    }
    void schedule(std::uint32_t i, Duration after, std::function<void()> fn) {
        unschedule(i);
        Slot& s = slots[i];
        s.fn = std::move(fn);
        s.pending = true;
        ++liveEntries;
        const TimePoint due = roundUp(Clock::now() + std::max(after, Duration::zero()));
        heap.push_back(Entry{due, seq++, i, s.generation});
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
        if (heap.size() > 64 && heap.size() > 4 * liveEntries) compact();
        arm();
    }
    // Drops the entries of cancelled or rescheduled timers (lazy cancellation's garbage).
    void compact() {
        std::erase_if(heap, [this](const Entry& e) { return slots[e.slot].generation != e.generation; });
        std::make_heap(heap.begin(), heap.end(), std::greater<>{});
    }
    void arm() {
        while (!heap.empty() && slots[heap.front().slot].generation != heap.front().generation) {
            std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
            heap.pop_back();
        }
        if (closed || heap.empty() || heap.front().due >= armed) return;
        armed = heap.front().due;
        timer.expires_at(armed);
        timer.async_wait([w = weak_from_this(), due = armed](const boost::system::error_code& ec) {
            auto self = w.lock();
            if (!self || ec || self->armed != due) return;
            self->fire();
        });
    }
    void fire() {
        armed = TimePoint::max();
        const TimePoint now = Clock::now();
        while (!heap.empty() && heap.front().due <= now) {
            const Entry e = heap.front();
            std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
            heap.pop_back();
            Slot& s = slots[e.slot];
            if (s.generation != e.generation) continue;
            auto fn = std::move(s.fn);
            unschedule(e.slot);
            fn();  // may schedule or destroy timers (the slot table may grow: no references held)
        }
        arm();
    }
};

namespace {

class CoalescedTimer : public Timer {
public:
    explicit CoalescedTimer(std::shared_ptr<CoalescedTimerFactory::State> st) : st_(std::move(st)), slot_(st_->acquire()) {}
    ~CoalescedTimer() override { st_->release(slot_); }
    void schedule(Duration after, std::function<void()> fn) override { st_->schedule(slot_, after, std::move(fn)); }
    void cancel() override { st_->unschedule(slot_); }
    bool pending() const override { return st_->slots[slot_].pending; }

private:
    std::shared_ptr<CoalescedTimerFactory::State> st_;
    std::uint32_t slot_;
};

}  // namespace

CoalescedTimerFactory::CoalescedTimerFactory(asio::io_context& io, Duration grain)
    : state_(std::make_shared<State>(io, grain)) {}

CoalescedTimerFactory::~CoalescedTimerFactory() {
    state_->closed = true;
    state_->armed = TimePoint::max();
    state_->timer.cancel();
}

std::unique_ptr<Timer> CoalescedTimerFactory::makeTimer() { return std::make_unique<CoalescedTimer>(state_); }

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
