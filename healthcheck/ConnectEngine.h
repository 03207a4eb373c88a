// ConnectEngine: the TCP connects of one event loop's checks, made with as few system calls as the
// kernel allows. Each connect is socket(SOCK_NONBLOCK), connect(), one epoll_ctl(ADD, EPOLLOUT |
// EPOLLONESHOT) into a private epoll set that Asio watches as a single descriptor, and on success no
// getsockopt (EPOLLOUT without EPOLLERR is a completed handshake): four calls where an Asio socket
// takes eight (its ioctl(FIONBIO), epoll_ctl MOD, poll and getsockopt). Deadlines cost no timer per
// connect: connects with the same timeout finish due in the order they started, so each timeout has
// a FIFO, finished connects are dropped from its front lazily, and one timer is armed for the oldest
// connect still pending. One instance per io_context (an Asio service: ConnectEngine::of(io)).
// Single-threaded, like the loop it belongs to.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "base/Asio.h"
#include "base/Clock.h"
#include "healthcheck/SocketSource.h"

namespace healthcheck {

class ConnectEngine : public asio::execution_context::service {
public:
    static asio::execution_context::id id;
    explicit ConnectEngine(asio::execution_context& ctx);
    ~ConnectEngine() override;
    static ConnectEngine& of(asio::io_context& io) { return asio::use_service<ConnectEngine>(io); }

    // Called once, from the loop, never from inside connect(): on success `fd` is the connected
    // socket and belongs to the caller; on failure `fd` is -1 and `ec` says why (timed_out for the
    // deadline), the socket already closed.
    using Done = std::function<void(int fd, const boost::system::error_code& ec)>;
    using Handle = std::uint64_t;  // never 0
    Handle connect(asio::ip::tcp::endpoint target, const SocketSource& source, base::Duration timeout, Done done);
    // Closes a pending connect's socket; its `done` is never called. A finished handle is ignored.
    void cancel(Handle h);
    std::size_t pending() const { return slots_.size() - freeSlots_.size(); }

private:
    struct Slot {
        int fd = -1;
        std::uint32_t generation = 0;
        Done done;
    };
    struct Deadline {
        base::TimePoint due;
        Handle handle;
    };
    struct DeadlineQueue {  // the connects of one timeout, oldest first
        base::Duration timeout;
        std::deque<Deadline> queue;
    };
    void shutdown() override;
    Slot* find(Handle h);
    static Handle handleOf(std::uint32_t index, std::uint32_t generation) {
        return (static_cast<Handle>(generation) << 32) | index;
    }
    void finish(Handle h, int fd, const boost::system::error_code& ec);
    void failLater(Handle h, int err);
    void watch();
    void onReady();
    void armDeadline();
    void expire();

    asio::io_context& io_;
    base::CoalescedTimerFactory timers_;
    std::unique_ptr<base::Timer> deadlineTimer_;
    base::TimePoint armedFor_ = base::TimePoint::max();
    std::vector<DeadlineQueue> deadlines_;
    asio::posix::stream_descriptor epoll_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> freeSlots_;
    bool watching_ = false;
    bool closed_ = false;
};

// Closes a socket with RST instead of FIN (SO_LINGER 0), so checks leave no TIME_WAIT behind.
void abortiveClose(int fd);

}  // namespace healthcheck
