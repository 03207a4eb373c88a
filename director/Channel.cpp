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
    socket_.async_read_some(asio::buffer(buf_), [weak](const boost::system::error_code& ec, size_t n) {
        auto self = weak.lock();
        if (!self || ec) return;  // the supervisor went away: PDEATHSIG ends us
        self->in_.append(self->buf_.data(), n);
        while (auto f = self->in_.next()) {
            if (auto m = protocol::decode(*f)) {
                self->deliver(std::move(*m));
            } else if (self->undecodable_++ == 0) {
                base::log::error("channel: dropped a message of type ", static_cast<int>(f->type),
                                 " that does not decode (counted; further ones are not logged)");
            }
        }
        if (self->in_.broken()) {
            base::log::error("channel: the supervisor sent a frame past the size limit; closing the channel");
            self->close();
            return;
        }
        self->readMore();
    });
}

void SocketChannel::send(const protocol::Message& m) {
    out_.push_back(protocol::encode(m));
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

void LocalChannel::send(const protocol::Message& m) {
    LocalChannel* peer = peer_;
    if (!peer) return;
    asio::post(io_, [peer, copy = protocol::Message(m)]() mutable { peer->deliver(std::move(copy)); });
}

}  // namespace director
