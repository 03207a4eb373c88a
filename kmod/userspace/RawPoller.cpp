#include "kmod/userspace/RawPoller.h"

#include <sys/epoll.h>
#include <unistd.h>

namespace kmod {

RawPoller::RawPoller(asio::io_context& io) : epfd_(::epoll_create1(EPOLL_CLOEXEC)), watch_(io) {
    if (epfd_ < 0) return;
    boost::system::error_code ec;
    watch_.assign(::dup(epfd_), ec);  // Asio's own copy: it may set flags on it and closes it
    if (ec) {
        ::close(epfd_);
        epfd_ = -1;
        return;
    }
    wait();
}

RawPoller::~RawPoller() {
    stop();
    if (epfd_ >= 0) ::close(epfd_);
}

void RawPoller::stop() {
    boost::system::error_code ec;
    watch_.close(ec);
}

bool RawPoller::add(int fd, Handler* h) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = h;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void RawPoller::wait() {
    watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        epoll_event events[256];
        int n;
        do {
            n = ::epoll_wait(epfd_, events, 256, 0);
            for (int i = 0; i < n; ++i) static_cast<Handler*>(events[i].data.ptr)->onEvents(events[i].events);
        } while (n == 256);
        wait();
    });
}

}  // namespace kmod
