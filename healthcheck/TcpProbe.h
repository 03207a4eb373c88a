// TcpProbe: healthy when a TCP connection is established within the timeout. The socket is then
// closed with RST (SO_LINGER 0), so checks leave no TIME_WAIT behind on either side. Connects go
// through the loop's ConnectEngine (socket, connect, epoll_ctl, setsockopt, close: five system calls
// per check).
#pragma once
#include <chrono>
#include <optional>

#include "base/Asio.h"
#include "healthcheck/ConnectEngine.h"
#include "healthcheck/Probe.h"
#include "healthcheck/SocketSource.h"

namespace healthcheck {

struct TcpTarget {
    asio::ip::tcp::endpoint endpoint;
    SocketSource source;  // where the check comes from
    std::chrono::microseconds connectTimeout{5'000'000};
};

// Opens a socket (its source applied) and connects it, racing a deadline, for the checks that talk
// over the connection (HTTP, SMTP): `done` gets it as an Asio socket on success.
class Connector : public std::enable_shared_from_this<Connector> {
public:
    using Done = std::function<void(const boost::system::error_code&, asio::ip::tcp::socket&)>;
    Connector(asio::io_context& io, TcpTarget target)
        : socket_(io), engine_(ConnectEngine::of(io)), target_(std::move(target)) {}
    void start(Done done);
    void cancel();
    asio::ip::tcp::socket& socket() { return socket_; }

private:
    asio::ip::tcp::socket socket_;
    ConnectEngine& engine_;
    ConnectEngine::Handle pending_ = 0;
    TcpTarget target_;
    Done done_;
    bool finished_ = false;
};

// Closes a socket with RST instead of FIN.
void abortiveClose(asio::ip::tcp::socket& s);

class TcpProbe : public Probe {
public:
    TcpProbe(asio::io_context& io, TcpTarget target) : engine_(ConnectEngine::of(io)), target_(std::move(target)) {}
    ~TcpProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    ConnectEngine& engine_;
    TcpTarget target_;
    ConnectEngine::Handle pending_ = 0;
    Done done_;
    std::chrono::steady_clock::time_point start_{};
};

}  // namespace healthcheck
