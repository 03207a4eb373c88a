#include "kmod/userspace/RawPoller.h"

#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

namespace kmod::userspace {

namespace {

std::set<int> epollDescriptors() {
    std::set<int> out;
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return out;
    while (const dirent* e = ::readdir(d)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end) continue;
        char target[64];
        const std::string path = std::string("/proc/self/fd/") + e->d_name;
        const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        if (n > 0 && std::string(target, static_cast<size_t>(n)) == "anon_inode:[eventpoll]")
            out.insert(static_cast<int>(fd));
    }
    ::closedir(d);
    return out;
}

// Makes `io`'s reactor and returns its epoll descriptor: the epoll set whose members carry, as
// their epoll data, addresses inside the reactor object (its interrupter and its timer descriptor,
// registered when it was made), as /proc/self/fdinfo lists them; -1 if there is not exactly one.
int makeReactor(asio::io_context& io) {
    auto& reactor = asio::use_service<asio::detail::reactor>(io);
    if (std::getenv("DIRECTORD_NESTED_POLLER")) return -1;  // the fallback, for tests
    const auto lo = reinterpret_cast<std::uintptr_t>(&reactor), hi = lo + sizeof reactor;
    int found = -1;
    for (int fd : epollDescriptors()) {
        std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
        std::string line;
        while (std::getline(info, line)) {
            const size_t at = line.find("data:");
            if (line.rfind("tfd:", 0) != 0 || at == std::string::npos) continue;
            const std::uintptr_t data = std::strtoull(line.c_str() + at + 5, nullptr, 16);
            if (data < lo || data >= hi) continue;
            if (found >= 0 && found != fd) return -1;
            found = fd;
            break;
        }
    }
    return found;
}

}  // namespace

RawPoller::RawPoller(asio::io_context& io)
    : io_(io), asioFd_(makeReactor(io)), epfd_(::epoll_create1(EPOLL_CLOEXEC)), watch_(io) {
    if (epfd_ < 0) {  // no set: Asio's loop runs alone (and adding relays fails)
        asioFd_ = -1;
        return;
    }
    if (asioFd_ >= 0) {
        wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;  // level: readable while Asio has something ready
        ev.data.ptr = nullptr;
        epoll_event wake{};
        wake.events = EPOLLIN;
        wake.data.ptr = &wakeFd_;
        if (wakeFd_ >= 0 && ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeFd_, &wake) == 0) {
            if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, asioFd_, &ev) == 0) return;
            ::epoll_ctl(epfd_, EPOLL_CTL_DEL, wakeFd_, nullptr);
        }
        asioFd_ = -1;
        if (wakeFd_ >= 0) ::close(wakeFd_);
        wakeFd_ = -1;
    }
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
    if (wakeFd_ >= 0) ::close(wakeFd_);
    if (epfd_ >= 0) ::close(epfd_);
}

void RawPoller::wake() {
    if (wakeFd_ < 0) return;  // nested in Asio's loop: Asio wakes itself
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wakeFd_, &one, sizeof one);  // EAGAIN: already pending
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

void RawPoller::dispatch(const epoll_event* events, int n, bool* asioReady) {
    for (int i = 0; i < n; ++i) {
        if (!events[i].data.ptr) {
            *asioReady = true;
        } else if (events[i].data.ptr == &wakeFd_) {
            std::uint64_t count;
            [[maybe_unused]] const ssize_t r = ::read(wakeFd_, &count, sizeof count);
            *asioReady = true;
        } else {
            static_cast<Handler*>(events[i].data.ptr)->onEvents(events[i].events);
        }
    }
}

void RawPoller::run() {
    if (asioFd_ < 0) {
        io_.run();
        return;
    }
    epoll_event events[256];
    io_.poll();  // what was posted before the thread started
    while (!io_.stopped()) {
        const int n = ::epoll_wait(epfd_, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
        }
        bool asioReady = false;
        dispatch(events, n, &asioReady);
        // Asio's turn when it has something: timers, listeners, datagrams, work posted from
        // another thread (wake) or from this one during the dispatch (pollSoon).
        if (asioReady || pollSoon_) {
            pollSoon_ = false;
            io_.poll();
        }
    }
}

void RawPoller::wait() {
    watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        epoll_event events[256];
        int n;
        bool asioReady = false;
        do {
            n = ::epoll_wait(epfd_, events, 256, 0);
            dispatch(events, n, &asioReady);
        } while (n == 256);
        wait();
    });
}

}  // namespace kmod::userspace
