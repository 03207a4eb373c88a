#include "healthcheck/HttpProbe.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>

#include "base/IpAddress.h"
#include "healthcheck/HttpResponseParser.h"
#include "healthcheck/SocketErrors.h"

namespace healthcheck {

namespace ssl = asio::ssl;
using Clock = std::chrono::steady_clock;

std::string md5Hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

// One attempt: connect, (handshake), write, read, judge. Owned by the probe; async handlers hold it.
struct HttpProbe::Exchange : std::enable_shared_from_this<HttpProbe::Exchange> {
    Exchange(asio::io_context& io, HttpProbe& owner)
        : connector(std::make_shared<Connector>(io, owner.target_)), timer(io), probe(&owner),
          parser(owner.spec_.maxBody,
                 !owner.spec_.digest.empty() || !owner.spec_.regex.empty() || owner.spec_.readBody,
                 owner.spec_.regexHeaders && !owner.spec_.regex.empty()) {}

    std::shared_ptr<Connector> connector;
    std::unique_ptr<ssl::stream<asio::ip::tcp::socket>> tls;
    asio::steady_timer timer;
    HttpProbe* probe;  // null once cancelled
    HttpResponseParser parser;
    std::array<char, 16384> buf{};
    Clock::time_point start = Clock::now();
    Done done;
    bool finished = false;

    asio::ip::tcp::socket& socket() { return tls ? tls->next_layer() : connector->socket(); }

    void finish(ProbeResult r) {
        if (finished) return;
        finished = true;
        // Keep the session for resumption (TLS 1.3 tickets arrive after the handshake, so take it
        // at the end); forget it when the exchange failed, so a broken session is not retried.
        if (tls && probe) {
            if (r.ok()) {
                // A clean end as far as the session goes: OpenSSL would otherwise mark it
                // unresumable when the connection is freed without close_notify (we close with RST).
                SSL_set_shutdown(tls->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
                if (SSL_SESSION* sess = SSL_get1_session(tls->native_handle()))
                    probe->tlsSession_ =
                        std::shared_ptr<void>(sess, [](void* p) { SSL_SESSION_free(static_cast<SSL_SESSION*>(p)); });
            } else {
                probe->tlsSession_.reset();
            }
        }
        timer.cancel();
        abortiveClose(socket());
        r.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        auto d = std::move(done);
        if (probe && d) d(r);
    }

    void begin() {
        auto self = shared_from_this();
        connector->start([self](const boost::system::error_code& ec, asio::ip::tcp::socket&) {
            if (self->finished || !self->probe) return;
            if (ec) return self->finish(fromSocketError(ec));
            self->timer.expires_after(self->probe->spec_.readTimeout);
            self->timer.async_wait([self](const boost::system::error_code& tec) {
                if (tec || self->finished) return;
                self->finish(ProbeResult::fail(Failure::Timeout));
            });
            if (self->probe->tlsContext_) self->handshake();
            else self->write(self->connector->socket());
        });
    }

    void handshake() {
        auto& ctx = *std::static_pointer_cast<ssl::context>(probe->tlsContext_);
        tls = std::make_unique<ssl::stream<asio::ip::tcp::socket>>(std::move(connector->socket()), ctx);
        const HttpSpec& s = probe->spec_;
        const std::string name = !s.sni.empty() ? s.sni : s.host;
        if (!name.empty() && !base::IpAddress::parse(name))
            SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(name.c_str()));
        if (s.verify) {
            const std::string check = !s.host.empty() ? s.host : name;
            if (!check.empty()) {
                if (base::IpAddress::parse(check))
                    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->native_handle()), check.c_str());
                else SSL_set1_host(tls->native_handle(), check.c_str());
            }
        }
        if (probe->tlsSession_)
            SSL_set_session(tls->native_handle(), static_cast<SSL_SESSION*>(probe->tlsSession_.get()));
        auto self = shared_from_this();
        tls->async_handshake(ssl::stream_base::client, [self](const boost::system::error_code& ec) {
            if (self->finished || !self->probe) return;
            if (ec) return self->finish(ProbeResult::fail(Failure::TlsHandshake));
            if (SSL_session_reused(self->tls->native_handle())) ++self->probe->resumed_;
            self->write(*self->tls);
        });
    }

    template <class Stream>
    void write(Stream& stream) {
        auto self = shared_from_this();
        asio::async_write(stream, asio::buffer(probe->request_),
                          [self, &stream](const boost::system::error_code& ec, size_t) {
                              if (self->finished || !self->probe) return;
                              if (ec) return self->finish(fromSocketError(ec));
                              self->read(stream);
                          });
    }

    template <class Stream>
    void read(Stream& stream) {
        auto self = shared_from_this();
        stream.async_read_some(asio::buffer(buf), [self, &stream](const boost::system::error_code& ec, size_t n) {
            if (self->finished || !self->probe) return;
            HttpResponseParser::State st;
            if (ec) {
                const bool eof = ec == asio::error::eof || ec == ssl::error::stream_truncated;
                if (!eof) return self->finish(fromSocketError(ec));
                st = self->parser.finishEof();
            } else {
                st = self->parser.feed(std::string_view(self->buf.data(), n));
            }
            if (st == HttpResponseParser::State::NeedMore) return self->read(stream);
            self->judge();
        });
    }

    void judge() {
        if (parser.state() == HttpResponseParser::State::Error) return finish(ProbeResult::fail(parser.error()));
        const HttpSpec& s = probe->spec_;
        probe->lastStatus_ = parser.status();
        bool statusOk = false;
        for (const auto& [lo, hi] : s.statusCodes) statusOk |= parser.status() >= lo && parser.status() <= hi;
        if (!statusOk) return finish(ProbeResult::fail(Failure::HttpStatus, parser.status()));
        if (!s.digest.empty() || s.readBody) {
            probe->lastDigest_ = md5Hex(parser.body());
            if (!s.digest.empty() && probe->lastDigest_ != s.digest)
                return finish(ProbeResult::fail(Failure::DigestMismatch));
        }
        if (probe->regex_) {
            const bool match =
                s.regexHeaders ? probe->regex_->matches(parser.head() + parser.body(), s.regexMinOffset, s.regexMaxOffset)
                               : probe->regex_->matches(parser.body(), s.regexMinOffset, s.regexMaxOffset);
            if (match == s.regexNoMatch) return finish(ProbeResult::fail(Failure::Regex));
        }
        finish(ProbeResult::success());
    }
};

std::unique_ptr<HttpProbe> HttpProbe::create(asio::io_context& io, TcpTarget target, HttpSpec spec, std::string& why) {
    std::unique_ptr<HttpProbe> p(new HttpProbe(io, std::move(target), std::move(spec)));
    const HttpSpec& s = p->spec_;
    if (!s.regex.empty()) {
        p->regex_ = base::Regex::compile(s.regex, s.regexOptions, why);
        if (!p->regex_) {
            why = "bad regex '" + s.regex + "': " + why;
            return nullptr;
        }
    }
    if (s.tls) {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        boost::system::error_code ec;
        ctx->set_verify_mode(s.verify ? ssl::verify_peer : ssl::verify_none, ec);
        if (s.verify) {
            if (!s.caFile.empty()) ctx->load_verify_file(s.caFile, ec);
            else ctx->set_default_verify_paths(ec);
            if (ec) {
                why = "cannot load CA file '" + s.caFile + "': " + ec.message();
                return nullptr;
            }
        }
        if (!s.certFile.empty()) {
            ctx->use_certificate_chain_file(s.certFile, ec);
            if (!ec) ctx->use_private_key_file(s.keyFile, ssl::context::pem, ec);
            if (ec) {
                why = "cannot load client certificate '" + s.certFile + "' / key '" + s.keyFile + "': " + ec.message();
                return nullptr;
            }
        }
        p->tlsContext_ = ctx;
    }
    return p;
}

HttpProbe::HttpProbe(asio::io_context& io, TcpTarget target, HttpSpec spec)
    : io_(io), target_(std::move(target)), spec_(std::move(spec)) {
    std::string host = spec_.host;
    if (host.empty()) {
        const auto a = target_.endpoint.address();
        host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    }
    request_ = "GET " + spec_.path + " HTTP/" + spec_.httpVersion + "\r\nHost: " + host +
               "\r\nUser-Agent: directord-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

HttpProbe::~HttpProbe() { cancel(); }

void HttpProbe::run(Done done) {
    cancel();
    exchange_ = std::make_shared<Exchange>(io_, *this);
    exchange_->done = std::move(done);
    exchange_->begin();
}

void HttpProbe::cancel() {
    if (!exchange_) return;
    exchange_->probe = nullptr;
    exchange_->finished = true;
    exchange_->done = nullptr;
    exchange_->timer.cancel();
    exchange_->connector->cancel();
    abortiveClose(exchange_->socket());
    exchange_.reset();
}

}  // namespace healthcheck
