#include "director/Channel.h"

#include "base/Log.h"

namespace director {

SocketChannel::SocketChannel(asio::io_context& io, int fd) : socket_(io) {
    boost::system::error_code ec;
    socket_.assign(asio::local::stream_protocol(), fd, ec);
    if (ec) base::log::error("channel: cannot use the supervisor socket: ", ec.message());
}

void SocketChannel::start() { readMore(); }

void SocketChannel::readMore() {
    std::weak_ptr<SocketChannel> weak = weak_from_this();
    asio::async_read_until(socket_, in_, '\n', [weak](const boost::system::error_code& ec, size_t n) {
        auto self = weak.lock();
        if (!self || ec) return;  // the supervisor went away: PDEATHSIG ends us
        std::string line(asio::buffers_begin(self->in_.data()),
                         asio::buffers_begin(self->in_.data()) + static_cast<std::ptrdiff_t>(n) - 1);
        self->in_.consume(n);
        self->deliver(line);
        self->readMore();
    });
}

void SocketChannel::send(const std::string& line) {
    out_.push_back(line + "\n");
    if (!writing_) writeNext();
}

void SocketChannel::writeNext() {
    if (out_.empty()) {
        writing_ = false;
        return;
    }
    writing_ = true;
    std::weak_ptr<SocketChannel> weak = weak_from_this();
    asio::async_write(socket_, asio::buffer(out_.front()), [weak](const boost::system::error_code& ec, size_t) {
        auto self = weak.lock();
        if (!self) return;
        if (ec) {
            self->writing_ = false;
            self->out_.clear();
            return;
        }
        self->out_.pop_front();
        self->writeNext();
    });
}

void SocketChannel::close() {
    boost::system::error_code ec;
    socket_.close(ec);
}

void LocalChannel::send(const std::string& line) {
    LocalChannel* peer = peer_;
    if (!peer) return;
    asio::post(io_, [peer, line] { peer->deliver(line); });
}

}  // namespace director
