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
    boost::system::error_code ec;
    socket_.open(target_.endpoint.protocol(), ec);
    if (!ec) applySource(socket_, target_.source, target_.endpoint, ec);
    auto self = shared_from_this();
    if (ec) {
        asio::post(socket_.get_executor(), [self, ec] {
            if (self->finished_) return;
            self->finished_ = true;
            auto d = std::move(self->done_);  // drop our hold on the caller (no cycle)
            d(ec, self->socket_);
        });
        return;
    }
    timer_.expires_after(target_.connectTimeout);
    timer_.async_wait([self](const boost::system::error_code& tec) {
        if (tec || self->finished_) return;
        self->finished_ = true;
        abortiveClose(self->socket_);
        auto d = std::move(self->done_);
        d(asio::error::timed_out, self->socket_);
    });
    socket_.async_connect(target_.endpoint, [self](const boost::system::error_code& cec) {
        if (self->finished_) return;
        self->finished_ = true;
        self->timer_.cancel();
        auto d = std::move(self->done_);
        d(cec, self->socket_);
    });
}

void Connector::cancel() {
    finished_ = true;
    done_ = nullptr;
    timer_.cancel();
    abortiveClose(socket_);
}

void TcpProbe::run(Done done) {
    cancel();
    const auto start = std::chrono::steady_clock::now();
    attempt_ = std::make_shared<Connector>(io_, target_);
    attempt_->start([done = std::move(done), start](const boost::system::error_code& ec, asio::ip::tcp::socket& s) {
        ProbeResult r = ec ? fromSocketError(ec) : ProbeResult::success();
        abortiveClose(s);
        r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        done(r);
    });
}

void TcpProbe::cancel() {
    if (attempt_) attempt_->cancel();
    attempt_.reset();
}

}  // namespace healthcheck
