// Channel: line messages between the two workers (DESIGN.md, process model). The vrrp worker tells
// the lvs worker each instance's role ("role VI_1 MASTER"), which sync and ha_suspend follow.
// Across processes the lines go over a socket pair to the supervisor, which relays them (and replays
// the last roles to a restarted worker); in --single-process mode a LocalChannel pair posts them.
// Delivery is always posted to the io_context, never re-entrant.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "base/Asio.h"

namespace director {

class Channel {
public:
    using Handler = std::function<void(const std::string& line)>;
    virtual ~Channel() = default;
    virtual void send(const std::string& line) = 0;
    void onLine(Handler h) { handler_ = std::move(h); }

protected:
    void deliver(const std::string& line) {
        if (handler_) handler_(line);
    }
    Handler handler_;
};

// One end of a stream socket; reads and writes newline-terminated lines.
class SocketChannel : public Channel, public std::enable_shared_from_this<SocketChannel> {
public:
    SocketChannel(asio::io_context& io, int fd);
    void start();  // begins reading
    void send(const std::string& line) override;
    void close();

private:
    void readMore();
    void writeNext();
    asio::local::stream_protocol::socket socket_;
    asio::streambuf in_;
    std::deque<std::string> out_;
    bool writing_ = false;
};

// Two in-process ends: what one sends, the other receives (posted).
class LocalChannel : public Channel {
public:
    explicit LocalChannel(asio::io_context& io) : io_(io) {}
    static void connect(LocalChannel& a, LocalChannel& b) {
        a.peer_ = &b;
        b.peer_ = &a;
    }
    void send(const std::string& line) override;

private:
    asio::io_context& io_;
    LocalChannel* peer_ = nullptr;
};

}  // namespace director
