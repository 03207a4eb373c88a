// ControlServer: the daemon's control socket (global.control_socket, a unix socket only root can
// use), served by the lvs worker. A client sends one ControlRequest frame and reads one
// ControlReply frame (director/protocol/Control.h); directorctl and ipvsctl are the clients. The
// handler may answer later (the userspace plane's counters come from the forwarding worker). A
// socket that another running directord answers on is never taken over.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "base/Asio.h"
#include "director/protocol/Control.h"

namespace director::lvs {

class ControlServer {
public:
    using Reply = std::function<void(protocol::ControlReply)>;
    using Handler = std::function<void(protocol::ControlRequest&& request, Reply reply)>;
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
    asio::steady_timer retry_;  // out of descriptors: accept again later
    bool owned_ = false;
    bool saidFull_ = false;
};

}  // namespace director::lvs
