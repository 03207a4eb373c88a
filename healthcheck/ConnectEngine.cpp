#include "healthcheck/ConnectEngine.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace healthcheck {

asio::execution_context::id ConnectEngine::id;

namespace {
int newEpoll() {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    return fd;
}
boost::system::error_code sysError(int err) { return {err, boost::system::system_category()}; }
}  // namespace

void abortiveClose(int fd) {
    if (fd < 0) return;
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

ConnectEngine::ConnectEngine(asio::execution_context& ctx)
    : asio::execution_context::service(ctx), io_(static_cast<asio::io_context&>(ctx)), timers_(io_),
      deadlineTimer_(timers_.makeTimer()), epoll_(io_, newEpoll()) {}

ConnectEngine::~ConnectEngine() { shutdown(); }

void ConnectEngine::shutdown() {
    if (closed_) return;
    closed_ = true;
    for (auto& s : slots_) {
        if (s.fd >= 0) ::close(s.fd);
        s.fd = -1;
        s.done = nullptr;
    }
    deadlines_.clear();
    deadlineTimer_.reset();
    boost::system::error_code ec;
    epoll_.close(ec);
}

ConnectEngine::Slot* ConnectEngine::find(Handle h) {
    const auto index = static_cast<std::uint32_t>(h & 0xffffffffu);
    const auto generation = static_cast<std::uint32_t>(h >> 32);
    if (index >= slots_.size()) return nullptr;
    Slot& s = slots_[index];
    return s.generation == generation && s.done ? &s : nullptr;
}

ConnectEngine::Handle ConnectEngine::connect(asio::ip::tcp::endpoint target, const SocketSource& source,
                                             base::Duration timeout, Done done) {
    std::uint32_t index;
    if (!freeSlots_.empty()) {
        index = freeSlots_.back();
        freeSlots_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& s = slots_[index];
    if (++s.generation == 0) s.generation = 1;  // handles are never 0
    const Handle h = handleOf(index, s.generation);
    s.done = std::move(done);
    auto q = std::find_if(deadlines_.begin(), deadlines_.end(), [&](const auto& d) { return d.timeout == timeout; });
    if (q == deadlines_.end()) q = deadlines_.insert(deadlines_.end(), DeadlineQueue{timeout, {}});
    q->queue.push_back(Deadline{base::Clock::now() + timeout, h});
    armDeadline();
    if (closed_) {
        failLater(h, ECANCELED);
        return h;
    }
    s.fd = ::socket(target.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s.fd < 0) {
        failLater(h, errno);
        return h;
    }
    boost::system::error_code ec;
    applySource(s.fd, source, target, ec);
    if (ec) {
        failLater(h, ec.value());
        return h;
    }
    if (::connect(s.fd, target.data(), static_cast<socklen_t>(target.size())) == 0) {
        asio::post(io_, [this, h] {  // at once (loopback may): still reported from the loop
            if (Slot* p = find(h)) finish(h, std::exchange(p->fd, -1), {});
        });
        return h;
    }
    if (errno != EINPROGRESS) {
        failLater(h, errno);
        return h;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLONESHOT;
    ev.data.u64 = h;
    if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, s.fd, &ev) != 0) {
        failLater(h, errno);
        return h;
    }
    watch();
    return h;
}

void ConnectEngine::failLater(Handle h, int err) {
    Slot& s = slots_[h & 0xffffffffu];
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    asio::post(io_, [this, h, err] {
        if (find(h)) finish(h, -1, sysError(err));
    });
}

void ConnectEngine::finish(Handle h, int fd, const boost::system::error_code& ec) {
    const auto index = static_cast<std::uint32_t>(h & 0xffffffffu);
    Slot& s = slots_[index];
    if (s.fd >= 0) ::close(s.fd);  // a failure's socket (a success's was handed over in `fd`)
    s.fd = -1;
    Done done = std::move(s.done);
    s.done = nullptr;
    freeSlots_.push_back(index);
    done(fd, ec);  // may start or cancel connects: no reference into slots_ is held here
}

void ConnectEngine::cancel(Handle h) {
    Slot* s = find(h);
    if (!s) return;
    abortiveClose(s->fd);  // connected but not yet reported: RST, not FIN
    s->fd = -1;
    s->done = nullptr;
    freeSlots_.push_back(static_cast<std::uint32_t>(h & 0xffffffffu));
}

void ConnectEngine::watch() {
    if (watching_ || closed_) return;
    watching_ = true;
    epoll_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        watching_ = false;
        if (ec || closed_) return;
        onReady();
    });
}

void ConnectEngine::onReady() {
    constexpr int kBatch = 256;
    epoll_event events[kBatch];
    for (;;) {
        const int n = ::epoll_wait(epoll_.native_handle(), events, kBatch, 0);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; ++i) {
            const Handle h = events[i].data.u64;
            Slot* s = find(h);
            if (!s) continue;  // cancelled or timed out since
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                int err = 0;
                socklen_t len = sizeof err;
                if (::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                finish(h, -1, sysError(err ? err : ECONNRESET));
            } else {
                finish(h, std::exchange(s->fd, -1), {});
            }
        }
        if (n < kBatch) break;
    }
    if (pending() > 0) watch();
    armDeadline();
}

// Drops finished connects from each queue's front, then arms the timer for the oldest pending one
// (earlier than it is armed for, or when it is not armed): on a healthy farm the fronts are gone by
// the time the next connect starts, and the timer is hardly ever moved.
void ConnectEngine::armDeadline() {
    if (!deadlineTimer_) return;
    base::TimePoint earliest = base::TimePoint::max();
    for (auto& d : deadlines_) {
        while (!d.queue.empty() && !find(d.queue.front().handle)) d.queue.pop_front();
        if (!d.queue.empty()) earliest = std::min(earliest, d.queue.front().due);
    }
    if (earliest == base::TimePoint::max() || (deadlineTimer_->pending() && armedFor_ <= earliest)) return;
    armedFor_ = earliest;
    deadlineTimer_->schedule(earliest - base::Clock::now(), [this] { expire(); });
}

void ConnectEngine::expire() {
    armedFor_ = base::TimePoint::max();
    const base::TimePoint now = base::Clock::now();
    for (std::size_t i = 0; i < deadlines_.size(); ++i) {
        for (;;) {
            auto& q = deadlines_[i].queue;  // finish() may push: look again each time
            if (q.empty() || q.front().due > now) break;
            const Handle h = q.front().handle;
            q.pop_front();
            if (find(h)) finish(h, -1, asio::error::timed_out);
        }
    }
    armDeadline();
}

}  // namespace healthcheck
