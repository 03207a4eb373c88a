// RawPoller: an epoll set of its own for the relays' sockets, and the forwarding thread's loop. A
// socket is added once, edge-triggered for both directions, and leaves the set by being closed: no
// epoll_ctl per wait, no mode changes, no delete, and no ioctl to tell Asio the socket is
// non-blocking (accept4 and socket made it so). That is most of what Asio cost a proxied connection
// (strace: ~25 syscalls down to ~18).
//
// The loop: run() blocks on this set, which holds Asio's own epoll descriptor as one more member,
// and gives Asio a turn (io_context::poll) when that descriptor is readable (a timer, a listener, a
// datagram): one epoll_wait per wake-up. Asio's descriptor is found when the poller is made: the
// epoll set whose members' epoll data point into the io_context's reactor (/proc/self/fdinfo).
// Where it cannot be found, the set goes into Asio's loop instead (three syscalls per wake-up: Asio's wait,
// ours, Asio's re-arm), which works the same, slower.
//
// Asio does not make its descriptor readable for posted work while nobody blocks inside it, so:
// work posted to the io_context from another thread must be followed by wake(), and work posted
// from this thread outside an Asio handler (from a Handler's onEvents) by pollSoon().
// Not thread-safe, except wake(): one per forwarding thread.
#pragma once
#include <cstdint>

#include "base/Asio.h"

namespace kmod::userspace {

class RawPoller {
public:
    struct Handler {
        virtual ~Handler() = default;
        // EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP as epoll reported them. A handler must
        // stay alive until the loop turn after its descriptors are closed (events already fetched
        // may still name it): relays release themselves through asio::post.
        virtual void onEvents(std::uint32_t events) = 0;
    };
    explicit RawPoller(asio::io_context& io);
    ~RawPoller();
    RawPoller(const RawPoller&) = delete;
    RawPoller& operator=(const RawPoller&) = delete;
    bool ok() const { return epfd_ >= 0; }
    // Whether run() waits on this set directly (Asio's descriptor was found).
    bool direct() const { return asioFd_ >= 0; }
    // Adds `fd` for `h`; false (errno set) when epoll refuses.
    bool add(int fd, Handler* h);
    // The thread's loop: returns when the io_context is stopped.
    void run();
    // After posting from another thread: Asio's turn comes now.
    void wake();
    // After posting from this thread in onEvents: Asio's turn comes at the end of this wake-up.
    void pollSoon() { pollSoon_ = true; }
    void stop();

private:
    void wait();
    void dispatch(const struct epoll_event* events, int n, bool* asioReady);
    asio::io_context& io_;
    int asioFd_ = -1;  // Asio's epoll descriptor (not ours to close), or -1
    int epfd_ = -1;
    int wakeFd_ = -1;  // an eventfd in the set (direct mode)
    bool pollSoon_ = false;
    asio::posix::stream_descriptor watch_;
};

}  // namespace kmod::userspace
