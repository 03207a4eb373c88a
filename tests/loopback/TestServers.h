// Servers for probe tests, on 127.0.0.1 port 0, driven by the test's own io_context: an HTTP(S)
// server whose answer the test scripts (status, body, delay, and hostile behaviours), and helpers
// to make a self-signed certificate at test time.
#pragma once
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "base/Asio.h"

namespace testutil {

using asio::ip::tcp;

enum class Behaviour {
    Normal,          // status + body after `delay`
    Silent,          // accepts, reads, never answers
    Trickle,         // answers one byte every `delay`
    Huge,            // 100 MB body (chunks, until the client goes)
    Garbage,         // non-HTTP bytes
    ResetMidway,     // half a response, then RST
    CloseEarly,      // half the headers, then FIN
    StallHandshake,  // TLS: never completes the handshake (plain TCP accept, no bytes)
};

struct HttpScript {
    Behaviour behaviour = Behaviour::Normal;
    int status = 200;
    std::string body = "hello\n";
    std::chrono::milliseconds delay{0};
    bool chunked = false;
};

// Makes a self-signed EC certificate for `cn` (also as a DNS SAN) and writes cert and key as PEM.
inline void makeSelfSigned(const std::string& cn, const std::string& certPath, const std::string& keyPath) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    const std::string san = "DNS:" + cn;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    FILE* f = std::fopen(certPath.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(keyPath.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

class HttpServer {
public:
    // With certificate and key files, serves HTTPS.
    HttpServer(asio::io_context& io, std::string cert = "", std::string key = "")
        : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        if (!cert.empty()) {
            tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
            tls_->use_certificate_chain_file(cert);
            tls_->use_private_key_file(key, asio::ssl::context::pem);
        }
        accept();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    HttpScript script;
    int requests = 0;
    std::string lastRequest;
    void stop() {
        boost::system::error_code ec;
        acceptor_.close(ec);
    }

private:
    struct Conn : std::enable_shared_from_this<Conn> {
        Conn(tcp::socket socket, HttpServer& srv) : sock(std::move(socket)), server(srv), timer(sock.get_executor()) {}
        tcp::socket sock;
        std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
        HttpServer& server;
        asio::steady_timer timer;
        asio::streambuf in;
        std::string out;
        size_t sent = 0;
        HttpScript s;

        template <class Stream>
        void readRequest(Stream& st) {
            auto self = shared_from_this();
            asio::async_read_until(st, in, "\r\n\r\n", [self, &st](const boost::system::error_code& ec, size_t n) {
                if (ec) return;
                self->server.requests++;
                self->server.lastRequest.assign(asio::buffers_begin(self->in.data()),
                                                asio::buffers_begin(self->in.data()) + static_cast<std::ptrdiff_t>(n));
                self->respond(st);
            });
        }
        std::string response() {
            std::string r = "HTTP/1.1 " + std::to_string(s.status) + " X\r\nConnection: close\r\n";
            if (s.chunked) {
                r += "Transfer-Encoding: chunked\r\n\r\n";
                char size[16];
                std::snprintf(size, sizeof size, "%zx", s.body.size());
                r += std::string(size) + "\r\n" + s.body + "\r\n0\r\n\r\n";
            } else {
                r += "Content-Length: " + std::to_string(s.body.size()) + "\r\n\r\n" + s.body;
            }
            return r;
        }
        template <class Stream>
        void respond(Stream& st) {
            auto self = shared_from_this();
            switch (s.behaviour) {
            case Behaviour::Silent:
            case Behaviour::StallHandshake:
                server.held_.push_back(self);  // keep the connection open, say nothing
                return;
            case Behaviour::Normal:
                timer.expires_after(s.delay);
                timer.async_wait([self, &st](const boost::system::error_code&) {
                    self->out = self->response();
                    asio::async_write(st, asio::buffer(self->out), [self](const boost::system::error_code&, size_t) {
                        boost::system::error_code ec;
                        self->sock.shutdown(tcp::socket::shutdown_send, ec);
                    });
                });
                return;
            case Behaviour::Trickle:
                out = response();
                trickle(st);
                return;
            case Behaviour::Huge:
                out = "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n" + std::string(65536, 'x');
                huge(st, 0);
                return;
            case Behaviour::Garbage:
                out = "\x16\x03\x01garbage, not HTTP at all\r\n\r\n";
                asio::async_write(st, asio::buffer(out), [self](const boost::system::error_code&, size_t) {});
                return;
            case Behaviour::ResetMidway:
                out = response().substr(0, 20);
                asio::async_write(st, asio::buffer(out), [self](const boost::system::error_code&, size_t) {
                    boost::system::error_code ec;
                    self->sock.set_option(asio::socket_base::linger(true, 0), ec);
                    self->sock.close(ec);
                });
                return;
            case Behaviour::CloseEarly:
                out = "HTTP/1.1 200 OK\r\nContent-Le";
                asio::async_write(st, asio::buffer(out), [self](const boost::system::error_code&, size_t) {
                    boost::system::error_code ec;
                    self->sock.shutdown(tcp::socket::shutdown_send, ec);
                });
                return;
            }
        }
        template <class Stream>
        void trickle(Stream& st) {
            if (sent >= out.size()) return;
            auto self = shared_from_this();
            asio::async_write(st, asio::buffer(out.data() + sent, 1),
                              [self, &st](const boost::system::error_code& ec, size_t) {
                                  if (ec) return;
                                  self->sent++;
                                  self->timer.expires_after(self->s.delay);
                                  self->timer.async_wait([self, &st](const boost::system::error_code& tec) {
                                      if (!tec) self->trickle(st);
                                  });
                              });
        }
        template <class Stream>
        void huge(Stream& st, size_t total) {
            if (total >= 100u << 20) return;
            auto self = shared_from_this();
            asio::async_write(st, asio::buffer(out), [self, &st, total](const boost::system::error_code& ec, size_t n) {
                if (ec) return;
                if (total == 0) self->out = std::string(65536, 'x');
                self->huge(st, total + n);
            });
        }
    };

    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
            if (ec) return;
            auto c = std::make_shared<Conn>(std::move(s), *this);
            c->s = script;
            if (tls_ && script.behaviour != Behaviour::StallHandshake) {
                c->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c->sock, *tls_);
                c->tls->async_handshake(asio::ssl::stream_base::server, [c](const boost::system::error_code& hec) {
                    if (!hec) c->readRequest(*c->tls);
                });
            } else if (script.behaviour == Behaviour::StallHandshake) {
                c->readRequest(c->sock);  // never sees a request: the client speaks TLS
                held_.push_back(c);
            } else {
                c->readRequest(c->sock);
            }
            accept();
        });
    }

    asio::io_context& io_;
    tcp::acceptor acceptor_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::vector<std::shared_ptr<Conn>> held_;
};

}  // namespace testutil
