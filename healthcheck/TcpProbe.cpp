#include "healthcheck/TcpProbe.h"

#include "healthcheck/SocketErrors.h"

namespace healthcheck {

void abortiveClose(asio::ip::tcp::socket& s) {
    boost::system::error_code ec;
    if (!s.is_open()) return;
    s.set_option(asio::socket_base::linger(true, 0), ec);
    s.close(ec);
}

void Connector::start(Done done) {
    done_ = std::move(done);
    finished_ = false;
    pending_ = engine_.connect(target_.endpoint, target_.source, target_.connectTimeout,
                               [self = shared_from_this()](int fd, const boost::system::error_code& ec) {
                                   self->pending_ = 0;
                                   if (self->finished_) {
                                       abortiveClose(fd);
                                       return;
                                   }
                                   self->finished_ = true;
                                   boost::system::error_code aec = ec;
                                   if (!aec) {
                                       self->socket_.assign(self->target_.endpoint.protocol(), fd, aec);
                                       if (aec) abortiveClose(fd);
                                   }
                                   auto d = std::move(self->done_);  // drop our hold on the caller (no cycle)
                                   d(aec, self->socket_);
                               });
}

void Connector::cancel() {
    finished_ = true;
    done_ = nullptr;
    if (pending_) engine_.cancel(std::exchange(pending_, 0));
    abortiveClose(socket_);
}

void TcpProbe::run(Done done) {
    cancel();
    done_ = std::move(done);
    start_ = std::chrono::steady_clock::now();
    pending_ = engine_.connect(target_.endpoint, target_.source, target_.connectTimeout,
                               [this](int fd, const boost::system::error_code& ec) {
                                   pending_ = 0;
                                   ProbeResult r = ec ? fromSocketError(ec) : ProbeResult::success();
                                   abortiveClose(fd);
                                   r.latency = std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start_);
                                   auto d = std::move(done_);
                                   d(std::move(r));
                               });
}

void TcpProbe::cancel() {
    if (pending_) engine_.cancel(std::exchange(pending_, 0));
    done_ = nullptr;
}

}  // namespace healthcheck
