// Channel: typed messages (director/protocol/Messages.h) between a worker and the supervisor, or,
// in --single-process mode, between the two components of one process. Across processes the
// frames go over a socket pair to the supervisor, which routes them (and remembers what a
// restarted worker needs); in one process a LocalChannel pair posts them. Delivery is always
// posted to the io_context, never re-entrant.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "base/Asio.h"
#include "director/protocol/Frame.h"
#include "director/protocol/Messages.h"

namespace director {

class Channel {
public:
    using Handler = std::function<void(protocol::Message&& m)>;
    virtual ~Channel() = default;
    virtual void send(const protocol::Message& m) = 0;
    void onMessage(Handler h) { handler_ = std::move(h); }

protected:
    void deliver(protocol::Message&& m) {
        if (handler_) handler_(std::move(m));
    }
    Handler handler_;
};

// One end of a stream socket, carrying frames.
class SocketChannel : public Channel, public std::enable_shared_from_this<SocketChannel> {
public:
    SocketChannel(asio::io_context& io, int fd);
    void start();  // begins reading
    void send(const protocol::Message& m) override;
    void close();
    std::uint64_t undecodable() const { return undecodable_; }

private:
    void readMore();
    void writeNext();
    asio::local::stream_protocol::socket socket_;
    protocol::FrameReader in_{protocol::kMaxWorkerFrame};
    std::array<char, 65536> buf_{};
    std::deque<std::string> out_;
    bool writing_ = false;
    std::uint64_t undecodable_ = 0;
};

// Two in-process ends: what one sends, the other receives (posted).
class LocalChannel : public Channel {
public:
    explicit LocalChannel(asio::io_context& io) : io_(io) {}
    static void connect(LocalChannel& a, LocalChannel& b) {
        a.peer_ = &b;
        b.peer_ = &a;
    }
    void send(const protocol::Message& m) override;

private:
    asio::io_context& io_;
    LocalChannel* peer_ = nullptr;
};

}  // namespace director
