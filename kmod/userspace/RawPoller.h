// RawPoller: an epoll set of its own for the relays' sockets, inside a forwarding thread's Asio loop
// (its descriptor is one more descriptor Asio waits on). A socket is added once, edge-triggered for
// both directions, and leaves the set by being closed: no epoll_ctl per wait, no mode changes, no
// delete, and no ioctl to tell Asio the socket is non-blocking (accept4 and socket made it so).
// That is most of what Asio cost a proxied connection (strace: ~25 syscalls down to ~18).
// Not thread-safe: one per forwarding thread.
#pragma once
#include <cstdint>

#include "base/Asio.h"

namespace kmod {

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
    // Adds `fd` for `h`; false (errno set) when epoll refuses.
    bool add(int fd, Handler* h);
    void stop();

private:
    void wait();
    int epfd_ = -1;
    asio::posix::stream_descriptor watch_;
};

}  // namespace kmod
