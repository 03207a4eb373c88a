// StatusServer: the read-only HTTP listener on global.status.listen, in the status worker (where a
// bug in it cannot write the IPVS table: director/status/StatusFront.h). GET or HEAD of a path the
// handler knows (/status, /metrics, the status page: /, /page.css, /page.js, /favicon.svg) gets 200 and
// its body; anything else is answered and closed: 400 for a malformed request, 404 for an unknown
// path, 405 for another method, 431 for a head over 8 KiB, 503 when MaxClients are connected. One
// request per connection (Connection: close). A client has 5 s to send its request head and 10 s
// to read the answer; out of descriptors, accepting backs off instead of spinning.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "base/Asio.h"
#include "base/IpAddress.h"

namespace director::status {

struct HttpBody {
    std::string contentType;
    std::string body;
    bool unavailable = false;  // the answer could not be had in time: 503
};

class StatusServer {
public:
    static constexpr int kMaxClients = 64;
    // Asked for a path's body; calls `done` once, now or later, with the body or nullopt (404).
    using Done = std::function<void(std::optional<HttpBody>)>;
    using Handler = std::function<void(const std::string& path, Done done)>;
    StatusServer(asio::io_context& io, base::SocketAddress listen, Handler handler);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;
    // False (after logging why) when the address cannot be bound; the daemon runs on without it.
    bool start();
    const base::SocketAddress& address() const { return listen_; }
    std::uint64_t requests() const { return state_->requests; }

    // Shared with the connections, which may outlive the server by their timeouts.
    struct State {
        Handler handler;
        int clients = 0;
        std::uint64_t requests = 0;
    };

private:
    void accept();
    asio::io_context& io_;
    base::SocketAddress listen_;
    std::shared_ptr<State> state_;
    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer retry_;
    bool saidFull_ = false;
};

// One request head, parsed: the path asked for (without its query) and whether it is a HEAD; or,
// for a malformed or refused request, the whole response to send (400, 405).
struct HttpRequest {
    std::string path;
    bool head = false;
};
std::variant<HttpRequest, std::string> parseHttpRequest(const std::string& head);
// The response to a parsed request, given its body (nullopt: 404).
std::string httpAnswer(const HttpRequest& r, const std::optional<HttpBody>& body);
// Both, with a handler that answers at once (exposed for the unit tests and the fuzzer).
using SyncHandler = std::function<std::optional<HttpBody>(const std::string& path)>;
std::string httpResponse(const std::string& head, const SyncHandler& handler, bool* ok = nullptr);

}  // namespace director::status
