#include "director/status/StatusServer.h"

#include <array>

#include "base/AsioAddress.h"
#include "base/Log.h"
#include "director/AcceptBackoff.h"

namespace director::status {
namespace {

constexpr size_t kMaxHead = 8192;
constexpr auto kReadTimeout = std::chrono::seconds(5);
constexpr auto kWriteTimeout = std::chrono::seconds(10);

std::string reply(int code, const char* reason, const std::string& type, const std::string& body, bool head) {
    std::string r = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n";
    r += "Content-Type: " + type + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += "Cache-Control: no-store\r\nConnection: close\r\n";
    // the status page loads only its own files, and nothing frames it
    r += "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\n";
    if (code == 405) r += "Allow: GET, HEAD\r\n";
    r += "\r\n";
    if (!head) r += body;
    return r;
}

std::string error(int code, const char* reason, bool head = false) {
    return reply(code, reason, "text/plain; charset=utf-8", std::to_string(code) + " " + reason + "\n", head);
}

bool token(const std::string& s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (c <= 32 || c >= 127) return false;
    return true;
}

// One connection: the request head within 5 s, one answer within 10 s, then closed.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(asio::io_context& io, asio::ip::tcp::socket s, std::shared_ptr<StatusServer::State> state)
        : sock_(std::move(s)), timer_(io), state_(std::move(state)) {
        ++state_->clients;
    }
    ~Connection() { --state_->clients; }

    void start(bool full) {
        if (full) return answer(error(503, "Service Unavailable"), false);
        arm(kReadTimeout);
        read();
    }

private:
    void arm(std::chrono::seconds after) {
        auto self = shared_from_this();
        timer_.expires_after(after);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            boost::system::error_code ignore;
            if (!ec) self->sock_.close(ignore);  // too slow: the descriptor is not held for it
        });
    }

    void read() {
        auto self = shared_from_this();
        sock_.async_read_some(asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t n) {
            if (ec) {
                self->timer_.cancel();
                return;
            }
            self->head_.append(self->buf_.data(), n);
            const auto end = self->head_.find("\r\n\r\n");
            if (end != std::string::npos && end + 4 > kMaxHead) {
                self->answer(error(431, "Request Header Fields Too Large"));
                return;
            }
            if (end == std::string::npos) {
                if (self->head_.size() > kMaxHead) self->answer(error(431, "Request Header Fields Too Large"));
                else self->read();
                return;
            }
            self->head_.resize(end + 2);
            ++self->state_->requests;
            auto parsed = parseHttpRequest(self->head_);
            if (auto* refused = std::get_if<std::string>(&parsed)) return self->answer(std::move(*refused));
            const auto req = std::get<HttpRequest>(parsed);
            if (!self->state_->handler) return self->answer(httpAnswer(req, std::nullopt));
            // the read timer stays armed: an answer that does not come in time closes the connection
            self->state_->handler(req.path, [self, req](std::optional<HttpBody> body) {
                if (self->sock_.is_open()) self->answer(httpAnswer(req, body));
            });
        });
    }

    // `linger`: read what the client still sends until it closes (bounded by the timer); not for
    // the 503 of a full house, whose descriptor is given back at once.
    void answer(std::string response, bool linger = true) {
        linger_ = linger;
        out_ = std::move(response);
        arm(kWriteTimeout);
        auto self = shared_from_this();
        asio::async_write(sock_, asio::buffer(out_), [self](const boost::system::error_code& ec, size_t) {
            boost::system::error_code ignore;
            if (ec) {
                self->sock_.close(ignore);
                return;
            }
            // the answer is out: end our side and read what the client still sends until it closes
            // (closing with unread data would reset the connection and could lose the answer)
            self->sock_.shutdown(asio::socket_base::shutdown_send, ignore);
            if (!self->linger_) {
                self->timer_.cancel();
                self->sock_.close(ignore);
                return;
            }
            self->drain();
        });
    }

    void drain() {
        auto self = shared_from_this();
        sock_.async_read_some(asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t) {
            if (!ec) return self->drain();
            boost::system::error_code ignore;
            self->timer_.cancel();
            self->sock_.close(ignore);
        });
    }

    asio::ip::tcp::socket sock_;
    asio::steady_timer timer_;
    std::shared_ptr<StatusServer::State> state_;
    std::array<char, 4096> buf_{};
    std::string head_, out_;
    bool linger_ = true;
};

}  // namespace

std::variant<HttpRequest, std::string> parseHttpRequest(const std::string& head) {
    const auto eol = head.find("\r\n");
    const std::string line = head.substr(0, eol);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return error(400, "Bad Request");
    const std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                      version = line.substr(sp2 + 1);
    if (!token(method) || !token(target) || target[0] != '/' || (version != "HTTP/1.1" && version != "HTTP/1.0"))
        return error(400, "Bad Request");
    const bool isHead = method == "HEAD";
    if (method != "GET" && !isHead) return error(405, "Method Not Allowed");
    return HttpRequest{target.substr(0, target.find('?')), isHead};
}

std::string httpAnswer(const HttpRequest& r, const std::optional<HttpBody>& body) {
    if (!body) return error(404, "Not Found", r.head);
    if (body->unavailable) return error(503, "Service Unavailable", r.head);
    return reply(200, "OK", body->contentType, body->body, r.head);
}

std::string httpResponse(const std::string& head, const SyncHandler& handler, bool* ok) {
    if (ok) *ok = false;
    auto parsed = parseHttpRequest(head);
    if (auto* refused = std::get_if<std::string>(&parsed)) return std::move(*refused);
    const auto& req = std::get<HttpRequest>(parsed);
    auto body = handler ? handler(req.path) : std::nullopt;
    if (ok) *ok = body && !body->unavailable;
    return httpAnswer(req, body);
}

StatusServer::StatusServer(asio::io_context& io, base::SocketAddress listen, Handler handler)
    : io_(io), listen_(listen), state_(std::make_shared<State>()), acceptor_(io), retry_(io) {
    state_->handler = std::move(handler);
}

StatusServer::~StatusServer() {
    boost::system::error_code ec;
    retry_.cancel();
    acceptor_.close(ec);
    state_->handler = nullptr;  // connections still open answer 404 from here on
}

bool StatusServer::start() {
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint ep(base::toAsio(listen_.address), listen_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(64, ec);
    if (ec) {
        base::log::error("status: cannot listen on ", listen_.str(), ": ", ec.message(),
                         "; no HTTP status or metrics (fix global.status.listen and reload)");
        boost::system::error_code ignore;
        acceptor_.close(ignore);
        return false;
    }
    base::log::info("status: serving /status and /metrics on http://", listen_.str());
    accept();
    return true;
}

void StatusServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            saidFull_ = false;
            const bool full = state_->clients >= kMaxClients;
            if (state_->clients >= 2 * kMaxClients) {
                boost::system::error_code ignore;
                s.close(ignore);  // even the 503s are in flight by the dozen: just close
            } else {
                std::make_shared<Connection>(io_, std::move(s), state_)->start(full);
            }
        } else if (backOffAccept(ec, retry_, saidFull_, "status", [this] {
                       if (acceptor_.is_open()) accept();
                   })) {
            return;
        }
        accept();
    });
}

}  // namespace director::status
