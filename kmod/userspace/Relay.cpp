#include "kmod/userspace/Relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <tuple>

namespace kmod {

namespace {
constexpr size_t kChunk = 1 << 18;  // the pipe's capacity (F_SETPIPE_SZ below)
constexpr size_t kPoolMax = 256;
void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}
}  // namespace

Relay::PipePool::~PipePool() {
    for (const Pipe& p : free_) {
        ::close(p.read);
        ::close(p.write);
    }
}

Relay::PipePool::Pipe Relay::PipePool::take() {
    if (!free_.empty()) {
        const Pipe p = free_.back();
        free_.pop_back();
        return p;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
    // fewer splices for bulk; best effort (the size it got is remembered with the pipe)
    const int size = ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kChunk));
    const int cap = size > 0 ? size : ::fcntl(fds[1], F_GETPIPE_SZ);
    return Pipe{fds[0], fds[1], cap > 0 ? static_cast<size_t>(cap) : 65536};
}

void Relay::PipePool::give(const Pipe& p) {
    if (free_.size() < kPoolMax) {
        free_.push_back(p);
        return;
    }
    ::close(p.read);
    ::close(p.write);
}

Relay::Relay(asio::ip::tcp::socket client, asio::ip::tcp::socket server, PipePool& pipes, Done done)
    : client_(std::move(client)), server_(std::move(server)), pipes_(pipes), done_(std::move(done)),
      idle_(client_.get_executor()) {
    up_.from = &client_;
    up_.to = &server_;
    down_.from = &server_;
    down_.to = &client_;
}

Relay::~Relay() {
    for (Direction* d : {&up_, &down_}) {
        if (d->pipeRead >= 0 && d->inPipe == 0) {
            pipes_.give({d->pipeRead, d->pipeWrite, d->capacity});
            d->pipeRead = d->pipeWrite = -1;
        }
        closeFd(d->pipeRead);
        closeFd(d->pipeWrite);
    }
}

bool Relay::start(std::chrono::seconds idleTimeout) {
    idleTimeout_ = idleTimeout;
    for (Direction* d : {&up_, &down_}) {
        const auto pipe = pipes_.take();
        if (pipe.read < 0) return false;
        d->pipeRead = pipe.read;
        d->pipeWrite = pipe.write;
        d->capacity = pipe.capacity;
    }
    // splice() blocks on a blocking socket whatever its flags: the accepted client socket is made
    // non-blocking here; the server socket already is (asio's connect made it so).
    boost::system::error_code ec;
    client_.non_blocking(true, ec);
    pump(up_);
    pump(down_);
    armIdle();
    return true;
}

// One timer per idle period: when it fires, a connection that moved bytes since is given another
// period; one that did not is reset.
void Relay::armIdle() {
    if (finished_ || failed_) return;
    seenMoved_ = up_.moved + down_.moved;
    idle_.expires_after(idleTimeout_);
    std::weak_ptr<Relay> weak = weak_from_this();
    idle_.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->finished_) return;
        if (self->up_.moved + self->down_.moved == self->seenMoved_) return self->fail();
        self->armIdle();
    });
}

// Drains the pipe into the destination, then refills it from the source; waits on whichever
// side would block.
void Relay::pump(Direction& d) {
    if (failed_ || d.done) return;
    lastActive_ = std::chrono::steady_clock::now();
    while (true) {
        if (d.inPipe > 0) {
            const ssize_t n = ::splice(d.pipeRead, nullptr, d.to->native_handle(), nullptr, d.inPipe,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n < 0) {
                if (errno != EAGAIN) return fail();
                auto self = shared_from_this();
                d.to->async_wait(asio::socket_base::wait_write, [self, &d](const boost::system::error_code& ec) {
                    if (ec) return self->fail();
                    self->pump(d);
                });
                return;
            }
            d.inPipe -= static_cast<size_t>(n);
            d.moved += static_cast<std::uint64_t>(n);
            continue;
        }
        if (!d.drained) {
            const ssize_t n = ::splice(d.from->native_handle(), nullptr, d.pipeWrite, nullptr, d.capacity,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n == 0) return finishDirection(d);
            if (n < 0 && errno != EAGAIN) return fail();
            if (n > 0) {
                d.inPipe = static_cast<size_t>(n);
                // Less than the pipe holds: the socket had no more just now. Wait for more rather
                // than ask again for an EAGAIN; the wait is queued before the loop polls, so the
                // next arrival's edge is not missed.
                d.drained = static_cast<size_t>(n) < d.capacity;
                continue;
            }
        }
        d.drained = false;
        auto self = shared_from_this();
        d.from->async_wait(asio::socket_base::wait_read, [self, &d](const boost::system::error_code& ec) {
            if (ec) return self->fail();
            self->pump(d);
        });
        return;
    }
}

void Relay::finishDirection(Direction& d) {
    d.done = true;
    // Pass the half-close on; when the other way is done too, close() below sends the FIN.
    Direction& other = &d == &up_ ? down_ : up_;
    if (!other.done) {
        boost::system::error_code ec;
        d.to->shutdown(asio::socket_base::shutdown_send, ec);
    }
    maybeDone();
}

// The client connection's segment counts: the packets in and out that IPVS would have counted.
// glibc's tcp_info stops at tcpi_total_retrans; the kernel's (linux/tcp.h, 4.2+) goes on with these.
struct TcpInfoWithSegments {
    tcp_info base;
    std::uint64_t pacingRate, maxPacingRate, bytesAcked, bytesReceived;
    std::uint32_t segsOut, segsIn;
};
static_assert(offsetof(TcpInfoWithSegments, segsOut) == 136, "linux/tcp.h layout");

void Relay::readSegments() {
    TcpInfoWithSegments info{};
    socklen_t len = sizeof info;
    if (client_.is_open() && ::getsockopt(client_.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        len >= offsetof(TcpInfoWithSegments, segsIn) + sizeof info.segsIn) {
        segsIn_ = info.segsIn;
        segsOut_ = info.segsOut;
    }
}

void Relay::fail() {
    if (failed_ || finished_) return;
    failed_ = true;
    readSegments();
    // A reset on one side is passed on as a reset on the other.
    boost::system::error_code ec;
    for (auto* s : {&client_, &server_}) {
        s->set_option(asio::socket_base::linger(true, 0), ec);
        s->close(ec);
    }
    up_.done = down_.done = true;
    maybeDone();
}

void Relay::maybeDone() {
    if (finished_ || !up_.done || !down_.done) return;
    finished_ = true;
    idle_.cancel();
    if (!failed_) readSegments();
    boost::system::error_code ec;
    client_.close(ec);
    server_.close(ec);
    if (done_) {
        auto d = std::move(done_);
        d(Totals{up_.moved, down_.moved, segsIn_, segsOut_, failed_});
    }
}

}  // namespace kmod
