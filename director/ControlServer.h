// ControlServer: the daemon's control socket (global.control_socket, a unix socket only root can
// use), served by the lvs worker. A client sends one request line and reads the answer until the
// server closes: "status" answers with the JSON state (as SIGUSR1 writes it). `directorctl` is the
// client; ipvsctl will reach the userspace plane through it too. A socket that another running
// directord answers on is never taken over.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "base/Asio.h"

namespace director {

class ControlServer {
public:
    static constexpr size_t kMaxPayload = 64 << 20;  // ipvsctl -R input
    using Handler = std::function<std::string(const std::string& request)>;
    ControlServer(asio::io_context& io, std::string path, Handler handler);
    ~ControlServer();
    // False (after logging why) when the socket cannot be had; the daemon runs on without it.
    bool start();
    void stop();

private:
    void accept();
    asio::io_context& io_;
    std::string path_;
    Handler handler_;
    asio::local::stream_protocol::acceptor acceptor_;
    bool owned_ = false;
};

}  // namespace director
