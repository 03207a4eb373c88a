#include "kmod/userspace/Relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace kmod::userspace {

namespace {
constexpr size_t kChunk = 1 << 18;  // the pipe's capacity (F_SETPIPE_SZ below)
constexpr size_t kPoolMax = 256;
constexpr size_t kStreaming = Relay::PipePool::kScratchSize;  // a read this large: a stream, not a request
void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}
// A reset rather than a FIN: what a failure on one side becomes on the other.
void resetFd(int& fd) {
    if (fd < 0) return;
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    closeFd(fd);
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

Relay::Relay(asio::io_context& io, RawPoller& poller, PipePool& pipes, int client, Done done)
    : poller_(poller), pipes_(pipes), client_(client), done_(std::move(done)), timer_(io) {
    clientSide_.relay = this;
    clientSide_.client = true;
    serverSide_.relay = this;
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
    closeFd(client_);
    closeFd(server_);
}

void Relay::Side::onEvents(std::uint32_t events) {
    if (client) relay->onClient(events);
    else relay->onServer(events);
}

void Relay::connect(const sockaddr* target, socklen_t len, std::chrono::milliseconds timeout,
                    std::chrono::seconds idleTimeout, std::chrono::seconds finTimeout,
                    std::chrono::seconds progressTimeout, std::function<bool()> crowded,
                    std::function<void()> connected) {
    connected_ = std::move(connected);
    crowded_ = std::move(crowded);
    idleTimeout_ = idleTimeout;
    finTimeout_ = finTimeout;
    progressTimeout_ = progressTimeout;
    tick_ = idleTimeout;
    if (progressTimeout.count() > 0)
        tick_ = std::min<std::chrono::steady_clock::duration>(
            idleTimeout, std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(1), progressTimeout / 6));
    connecting_ = true;
    server_ = ::socket(target->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (server_ < 0) return connectDone(errno);
    const int one = 1;
    ::setsockopt(server_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!poller_.add(server_, &serverSide_)) return connectDone(errno);
    if (::connect(server_, target, len) == 0) return connectDone(0);
    if (errno != EINPROGRESS) return connectDone(errno);
    timer_.expires_after(timeout);
    std::weak_ptr<Relay> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!ec && self && self->connecting_) self->connectDone(ETIMEDOUT);
    });
}

void Relay::connectDone(int err) {
    if (!connecting_) return;
    connecting_ = false;
    timer_.cancel();
    if (err || !startRelaying()) {
        failed_ = true;
        resetFd(client_);
        closeFd(server_);
        up_.done = down_.done = true;
        return maybeDone();
    }
    isConnected_ = true;
    if (connected_) connected_();
    pump(up_);
    pump(down_);
    armIdle();
}

bool Relay::startRelaying() {
    if (!poller_.add(client_, &clientSide_)) return false;
    up_.from = client_;
    up_.to = server_;
    down_.from = server_;
    down_.to = client_;
    return true;
}

void Relay::onServer(std::uint32_t events) {
    if (finished_) return;
    if (connecting_) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        if (events & (EPOLLERR | EPOLLHUP)) {  // only a failure needs SO_ERROR: writable alone is connected
            socklen_t len = sizeof err;
            if (::getsockopt(server_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (!err) err = ECONNREFUSED;
        }
        // The same wake-up may carry the server's first bytes and its FIN (it answered and closed at
        // once): no edge follows that end, so the pump connectDone starts must read on to it.
        if (events & EPOLLRDHUP) down_.ended = true;
        return connectDone(err);
    }
    if (!isConnected_) return;
    readable(down_, events);
    writable(up_, events);
}

void Relay::onClient(std::uint32_t events) {
    if (finished_ || !isConnected_) return;
    readable(up_, events);
    writable(down_, events);
}

// The source of `d` has something (data, EOF, an error): pump.
void Relay::readable(Direction& d, std::uint32_t events) {
    if (events & EPOLLIN) d.drained = false;  // new data since the last read, which may not be taken now
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) d.ended = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) pump(d);
}

// The destination of `d` has room again: that matters only with bytes waiting (TCP
// raises this edge after many acks; reading the source then would mostly find nothing).
void Relay::writable(Direction& d, std::uint32_t events) {
    if ((events & (EPOLLHUP | EPOLLERR)) || ((events & EPOLLOUT) && (d.inPipe > 0 || !d.held.empty()))) pump(d);
}

// One timer per tick (the idle period, or a sixth of the progress timeout when shorter). A tick
// with no byte either way adds to the idle time (reset at the idle timeout); one in which only the
// client sent, and less than kProgressBytes, adds to the trickle time (reset at the progress
// timeout); any other tick is progress and clears both. An idle tick does not clear the trickle
// time, so trickling between silences does not reset it either. While the budget is crowded, the
// idle time is held to the progress timeout too.
void Relay::armIdle() {
    if (finished_ || failed_) return;
    seenUp_ = up_.moved;
    seenDown_ = down_.moved;
    timer_.expires_after(tick_);
    std::weak_ptr<Relay> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->finished_) return;
        const std::uint64_t up = self->up_.moved - self->seenUp_, down = self->down_.moved - self->seenDown_;
        if (up == 0 && down == 0) {
            self->idleFor_ += self->tick_;
            if (self->idleFor_ >= self->idleTimeout_) return self->fail();
            if (self->progressTimeout_.count() > 0 && self->idleFor_ >= self->progressTimeout_ && self->crowded_ &&
                self->crowded_())
                return self->fail();
        } else if (down == 0 && up < kProgressBytes && self->progressTimeout_.count() > 0) {
            self->idleFor_ = {};
            self->trickleFor_ += self->tick_;
            if (self->trickleFor_ >= self->progressTimeout_) return self->fail();
        } else {
            self->idleFor_ = {};
            self->trickleFor_ = {};
        }
        self->armIdle();
    });
}

// Drains what waits (the pipe, or the rest of a small read) into the destination, then reads the
// source again, until one side would block: the sockets are edge-triggered, so the next readiness of
// that side calls again.
void Relay::pump(Direction& d) {
    if (failed_ || d.done) return;
    lastActive_ = std::chrono::steady_clock::now();
    while (true) {
        if (d.inPipe > 0) {
            const ssize_t n = ::splice(d.pipeRead, nullptr, d.to, nullptr, d.inPipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n < 0) {
                if (errno == EAGAIN) return;  // the destination is full: its EPOLLOUT edge resumes
                return fail();
            }
            d.inPipe -= static_cast<size_t>(n);
            d.moved += static_cast<std::uint64_t>(n);
            continue;
        }
        if (!d.held.empty()) {
            const ssize_t n = ::send(d.to, d.held.data() + d.heldFrom, d.held.size() - d.heldFrom, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) return;
                return fail();
            }
            d.heldFrom += static_cast<size_t>(n);
            d.moved += static_cast<std::uint64_t>(n);
            if (d.heldFrom == d.held.size()) {
                d.held.clear();
                d.heldFrom = 0;
            }
            continue;
        }
        if (d.drained) {
            // The last read took less than it could: the socket was empty then. Rather than ask
            // again for an EAGAIN, wait: data arriving since raises an edge. Not when the source's
            // end came in the same wake-up as its data: no edge follows that one, so read on to it.
            d.drained = false;
            if (!d.ended) return;
        }
        if (!d.streaming) {
            if (!copySmall(d)) return;
            continue;
        }
        if (d.pipeRead < 0) {
            const auto pipe = pipes_.take();
            if (pipe.read < 0) return fail();
            d.pipeRead = pipe.read;
            d.pipeWrite = pipe.write;
            d.capacity = pipe.capacity;
        }
        const ssize_t n =
            ::splice(d.from, nullptr, d.pipeWrite, nullptr, d.capacity, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n == 0) return finishDirection(d);
        if (n < 0) {
            if (errno == EAGAIN) return;
            return fail();
        }
        d.inPipe = static_cast<size_t>(n);
        // A large read is a stream: more has likely come while the pipe was written out, and reading
        // on saves a wake-up per chunk. A small one emptied the socket: wait for its next edge.
        d.drained = static_cast<size_t>(n) < std::min<size_t>(d.capacity, kStreaming);
    }
}

// One read into the scratch buffer, written straight on (recv + send cost less than two splices
// through a pipe for a request's few hundred bytes); what the destination does not take is held
// for its EPOLLOUT. A read that fills the buffer makes the direction a stream. False: stop pumping
// (would block, or the direction ended).
bool Relay::copySmall(Direction& d) {
    char* buf = pipes_.scratch();
    const ssize_t n = ::recv(d.from, buf, kStreaming, 0);
    if (n == 0) {
        finishDirection(d);
        return false;
    }
    if (n < 0) {
        if (errno != EAGAIN) fail();
        return false;
    }
    ssize_t sent = ::send(d.to, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (sent < 0) {
        if (errno != EAGAIN) {
            fail();
            return false;
        }
        sent = 0;
    }
    d.moved += static_cast<std::uint64_t>(sent);
    if (sent < n) d.held.assign(buf + sent, buf + n);
    if (static_cast<size_t>(n) == kStreaming) d.streaming = true;
    else d.drained = true;
    return true;
}

void Relay::finishDirection(Direction& d) {
    d.done = true;
    // Pass the half-close on; when the other way is done too, close() below sends the FIN.
    Direction& other = &d == &up_ ? down_ : up_;
    if (!other.done) {
        ::shutdown(d.to, SHUT_WR);
        // half-closed: the other way's idle limit is now tcpfin, counted from here (the check re-armed)
        if (finTimeout_.count() > 0 && finTimeout_ < idleTimeout_) {
            idleTimeout_ = finTimeout_;
            tick_ = std::min<std::chrono::steady_clock::duration>(tick_, finTimeout_);
            idleFor_ = {};
            lastActive_ = std::chrono::steady_clock::now();
            if (isConnected_) armIdle();
        }
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
    if (client_ >= 0 && ::getsockopt(client_, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
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
    resetFd(client_);
    resetFd(server_);
    up_.done = down_.done = true;
    maybeDone();
}

void Relay::maybeDone() {
    if (finished_ || !up_.done || !down_.done) return;
    finished_ = true;
    timer_.cancel();
    if (!failed_) readSegments();
    closeFd(client_);
    closeFd(server_);
    if (done_) {
        auto d = std::move(done_);
        d(Totals{up_.moved, down_.moved, segsIn_, segsOut_, isConnected_, failed_});
    }
}

}  // namespace kmod::userspace
