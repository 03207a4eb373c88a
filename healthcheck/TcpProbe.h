// TcpProbe: healthy when a TCP connection is established within the timeout. The socket is then
// closed with RST (SO_LINGER 0), so checks leave no TIME_WAIT behind on either side.
#pragma once
#include <chrono>
#include <optional>

#include "base/Asio.h"
#include "healthcheck/Probe.h"
#include "healthcheck/SocketSource.h"

namespace healthcheck {

struct TcpTarget {
    asio::ip::tcp::endpoint endpoint;
    SocketSource source;  // where the check comes from
    std::chrono::microseconds connectTimeout{5'000'000};
};

// Opens a socket (its source applied) and connects it, racing a deadline. Shared by the TCP and HTTP
// probes. `done` gets the socket on success.
class Connector : public std::enable_shared_from_this<Connector> {
public:
    using Done = std::function<void(const boost::system::error_code&, asio::ip::tcp::socket&)>;
    Connector(asio::io_context& io, TcpTarget target) : socket_(io), timer_(io), target_(std::move(target)) {}
    void start(Done done);
    void cancel();
    asio::ip::tcp::socket& socket() { return socket_; }

private:
    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    TcpTarget target_;
    Done done_;
    bool finished_ = false;
};

// Closes a socket with RST instead of FIN.
void abortiveClose(asio::ip::tcp::socket& s);

class TcpProbe : public Probe {
public:
    TcpProbe(asio::io_context& io, TcpTarget target) : io_(io), target_(std::move(target)) {}
    ~TcpProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    asio::io_context& io_;
    TcpTarget target_;
    std::shared_ptr<Connector> attempt_;
};

}  // namespace healthcheck
