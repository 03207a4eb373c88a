#include "director/ControlServer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "base/Log.h"

namespace director {

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start() {
    using asio::local::stream_protocol;
    boost::system::error_code ec;
    // Someone answering there? Then it is another directord's: leave it alone.
    {
        stream_protocol::socket probe(io_);
        probe.connect(stream_protocol::endpoint(path_), ec);
        if (!ec) {
            base::log::error("control: ", path_,
                             " is in use by another process; no control socket for this directord"
                             " (give it its own control_socket)");
            return false;
        }
    }
    ::unlink(path_.c_str());           // a stale socket from a crash
    const mode_t old = ::umask(0177);  // 0600: root only
    acceptor_.open(stream_protocol(), ec);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(path_), ec);
    ::umask(old);
    if (!ec) acceptor_.listen(16, ec);
    if (ec) {
        base::log::error("control: cannot listen on ", path_, ": ", ec.message(),
                         "; directorctl will not reach this directord");
        return false;
    }
    owned_ = true;
    accept();
    return true;
}

void ControlServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (owned_) ::unlink(path_.c_str());
    owned_ = false;
}

void ControlServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::local::stream_protocol::socket s) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            auto sock = std::make_shared<asio::local::stream_protocol::socket>(std::move(s));
            // A request is one line; "ipvsadm LEN" is followed by LEN bytes (ipvsctl's arguments and
            // its -R input).
            auto buf = std::make_shared<asio::streambuf>(kMaxPayload + 4096);
            auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(5));
            timer->async_wait([sock](const boost::system::error_code& tec) {
                boost::system::error_code ignore;
                if (!tec) sock->close(ignore);  // a client that never sends its request
            });
            asio::async_read_until(
                *sock, *buf, '\n', [this, sock, buf, timer](const boost::system::error_code& rec, size_t n) {
                    if (rec) {
                        timer->cancel();
                        return;
                    }
                    std::string request(asio::buffers_begin(buf->data()),
                                        asio::buffers_begin(buf->data()) + static_cast<std::ptrdiff_t>(n) - 1);
                    buf->consume(n);
                    size_t payload = 0;
                    if (request.rfind("ipvsadm ", 0) == 0) {
                        try {
                            payload = std::stoul(request.substr(8));
                        } catch (const std::exception&) {
                            payload = kMaxPayload + 1;
                        }
                    }
                    auto reply = [this, sock, buf, timer](std::string req) {
                        timer->cancel();
                        auto answer = std::make_shared<std::string>(handler_(req));
                        asio::async_write(*sock, asio::buffer(*answer),
                                          [sock, answer](const boost::system::error_code&, size_t) {
                                              boost::system::error_code ignore;
                                              sock->shutdown(asio::socket_base::shutdown_both, ignore);
                                          });
                    };
                    if (payload > kMaxPayload) return reply("error-too-big");
                    if (payload == 0) return reply(request);
                    const size_t have = buf->size();
                    const size_t need = payload > have ? payload - have : 0;
                    asio::async_read(*sock, *buf, asio::transfer_exactly(need),
                                     [request, payload, buf, reply](const boost::system::error_code& pec, size_t) {
                                         if (pec || buf->size() < payload) return;
                                         std::string body(
                                             asio::buffers_begin(buf->data()),
                                             asio::buffers_begin(buf->data()) + static_cast<std::ptrdiff_t>(payload));
                                         reply(request + "\n" + body);
                                     });
                });
        }
        accept();
    });
}

}  // namespace director
