#include "healthcheck/HttpProbe.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <boost/asio/ssl.hpp>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>

#include "base/IpAddress.h"
#include "healthcheck/Http2Client.h"
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
                 owner.spec_.regexHeaders && !owner.spec_.regex.empty()) {
        if (owner.spec_.http2 || owner.spec_.grpcService) h2 = std::make_unique<Http2Client>(owner.h2Request_, owner.spec_.maxBody);
    }

    std::shared_ptr<Connector> connector;
    std::unique_ptr<ssl::stream<asio::ip::tcp::socket>> tls;
    asio::steady_timer timer;
    HttpProbe* probe;  // null once cancelled
    HttpResponseParser parser;
    std::unique_ptr<Http2Client> h2;  // http2 and grpc
    std::string out;                  // HTTP/2 bytes being written
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
            else if (self->h2) self->h2Write(self->connector->socket());
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
            if (!self->h2) return self->write(*self->tls);
            const unsigned char* alpn = nullptr;
            unsigned len = 0;
            SSL_get0_alpn_selected(self->tls->native_handle(), &alpn, &len);
            if (len != 2 || std::memcmp(alpn, "h2", 2) != 0)  // the server speaks no HTTP/2 over TLS
                return self->finish(ProbeResult::fail(Failure::HttpMalformed));
            self->h2Write(*self->tls);
        });
    }

    // HTTP/2 (http2, grpc): the client's bytes out, then read() the server's, until the stream ends.
    template <class Stream>
    void h2Write(Stream& stream) {
        out = h2->output();
        if (h2->state() != Http2Client::State::NeedMore) return judge();
        if (out.empty()) return read(stream);
        auto self = shared_from_this();
        asio::async_write(stream, asio::buffer(out), [self, &stream](const boost::system::error_code& ec, size_t) {
            if (self->finished || !self->probe) return;
            if (ec) return self->finish(fromSocketError(ec));
            self->read(stream);
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

    // The response, HTTP/1 (the parser) or HTTP/2 (the client, which may have bytes to send back
    // between reads: acknowledgements, window updates).
    template <class Stream>
    void read(Stream& stream) {
        auto self = shared_from_this();
        stream.async_read_some(asio::buffer(buf), [self, &stream](const boost::system::error_code& ec, size_t n) {
            if (self->finished || !self->probe) return;
            const bool eof = ec == asio::error::eof || ec == ssl::error::stream_truncated;
            if (ec && !eof) return self->finish(fromSocketError(ec));
            const std::string_view data(self->buf.data(), ec ? 0 : n);
            if (self->h2) {
                const auto st = ec ? self->h2->finishEof() : self->h2->feed(data);
                if (st == Http2Client::State::NeedMore) return self->h2Write(stream);
            } else {
                const auto st = ec ? self->parser.finishEof() : self->parser.feed(data);
                if (st == HttpResponseParser::State::NeedMore) return self->read(stream);
            }
            self->judge();
        });
    }

    void judge() {
        if (h2 && h2->state() == Http2Client::State::Error) return finish(ProbeResult::fail(h2->error()));
        if (!h2 && parser.state() == HttpResponseParser::State::Error) return finish(ProbeResult::fail(parser.error()));
        const HttpSpec& s = probe->spec_;
        const int status = h2 ? h2->status() : parser.status();
        const std::string& body = h2 ? h2->body() : parser.body();
        probe->lastStatus_ = status;
        if (s.grpcService) return finish(grpcResult(status, body));
        bool statusOk = false;
        for (const auto& [lo, hi] : s.statusCodes) statusOk |= status >= lo && status <= hi;
        if (!statusOk) return finish(ProbeResult::fail(Failure::HttpStatus, status));
        if (!s.digest.empty() || s.readBody) {
            probe->lastDigest_ = md5Hex(body);
            if (!s.digest.empty() && probe->lastDigest_ != s.digest)
                return finish(ProbeResult::fail(Failure::DigestMismatch));
        }
        if (probe->regex_) {
            const bool match = s.regexHeaders ? probe->regex_->matches(head() + body, s.regexMinOffset, s.regexMaxOffset)
                                              : probe->regex_->matches(body, s.regexMinOffset, s.regexMaxOffset);
            if (match == s.regexNoMatch) return finish(ProbeResult::fail(Failure::Regex));
        }
        finish(ProbeResult::success());
    }

    // The response's head as the regex sees it: HTTP/1's as it came; HTTP/2's written out the same way.
    std::string head() const {
        if (!h2) return parser.head();
        return "HTTP/2 " + std::to_string(h2->status()) + "\r\n" + h2->headersText() + "\r\n";
    }

    // grpc.health.v1.Health/Check: grpc-status 0 (in the trailers, or a trailers-only response)
    // and a HealthCheckResponse whose status is SERVING.
    ProbeResult grpcResult(int status, const std::string& body) const {
        if (status != 200) return ProbeResult::fail(Failure::HttpStatus, status);
        const auto grpcStatus = h2->header("grpc-status");
        int code = -1;
        if (grpcStatus) std::from_chars(grpcStatus->data(), grpcStatus->data() + grpcStatus->size(), code);
        if (code != 0) return ProbeResult::fail(Failure::GrpcStatus, code);
        const auto serving = grpcServingStatus(body);
        if (!serving) return ProbeResult::fail(Failure::HttpMalformed);
        if (*serving != 1) return ProbeResult::fail(Failure::GrpcNotServing, *serving);
        return ProbeResult::success();
    }
};

std::string grpcHealthRequest(const std::string& service) {
    std::string msg;  // HealthCheckRequest { string service = 1; }
    if (!service.empty()) {
        msg += '\x0a';
        for (std::size_t n = service.size(); ; n >>= 7) {  // the length, a varint
            msg += static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            if (n <= 0x7f) break;
        }
        msg += service;
    }
    std::string frame(5, '\0');  // not compressed, then the length, big-endian
    for (int i = 0; i < 4; ++i) frame[1 + i] = static_cast<char>((msg.size() >> (24 - 8 * i)) & 0xff);
    return frame + msg;
}

std::optional<int> grpcServingStatus(std::string_view body) {
    if (body.size() < 5 || body[0] != 0) return std::nullopt;  // one uncompressed message
    std::size_t len = 0;
    for (int i = 1; i < 5; ++i) len = (len << 8) | static_cast<unsigned char>(body[i]);
    if (len != body.size() - 5) return std::nullopt;
    std::string_view msg = body.substr(5);
    int status = 0;  // proto3: an absent field is 0 (UNKNOWN)
    while (!msg.empty()) {  // HealthCheckResponse { ServingStatus status = 1; }, other fields skipped
        const unsigned key = static_cast<unsigned char>(msg[0]);
        msg.remove_prefix(1);
        auto varint = [&msg]() -> std::optional<std::uint64_t> {
            std::uint64_t v = 0;
            for (int shift = 0; shift < 64 && !msg.empty(); shift += 7) {
                const unsigned char b = static_cast<unsigned char>(msg[0]);
                msg.remove_prefix(1);
                v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
                if (!(b & 0x80)) return v;
            }
            return std::nullopt;
        };
        if ((key & 0x80) != 0) return std::nullopt;  // field numbers past 15: not in this message
        if ((key & 7) == 0) {
            auto v = varint();
            if (!v) return std::nullopt;
            if ((key >> 3) == 1) status = static_cast<int>(std::min<std::uint64_t>(*v, 1000));
        } else if ((key & 7) == 2) {
            auto n = varint();
            if (!n || *n > msg.size()) return std::nullopt;
            msg.remove_prefix(*n);
        } else {
            return std::nullopt;
        }
    }
    return status;
}

namespace {

// One client SSL_CTX per distinct TLS setting, shared by every probe that has it: loading the
// system's CA store or a client certificate once, not once per real server (a store is ~1 MB).
// Probes hold it; the cache only remembers it while some probe does. A file changed on disk (a
// renewed CA bundle or client certificate, then a reload) makes a new context: its mtime and size
// are part of the key.
std::string fileStamp(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return path + '\0';
    return path + '\0' + std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '/' +
           std::to_string(st.st_size);
}

std::shared_ptr<void> sharedClientContext(const HttpSpec& s, std::string& why) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<ssl::context>> cache;
    const bool h2 = s.http2 || s.grpcService.has_value();
    std::string key = std::string(s.verify ? "v" : "-") + (h2 ? "2" : "1") + '\0' + fileStamp(s.caFile) + '\0' +
                      fileStamp(s.certFile) + '\0' + fileStamp(s.keyFile);
    std::lock_guard lock(mu);
    if (auto hit = cache[key].lock()) return hit;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_verify_mode(s.verify ? ssl::verify_peer : ssl::verify_none, ec);
    if (h2) {  // ALPN: HTTP/2 only (a server that cannot is a failed check)
        static const unsigned char kH2[] = {2, 'h', '2'};
        SSL_CTX_set_alpn_protos(ctx->native_handle(), kH2, sizeof kH2);
    }
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
    std::erase_if(cache, [](const auto& e) { return e.second.expired(); });
    cache[key] = ctx;
    return ctx;
}

}  // namespace

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
        p->tlsContext_ = sharedClientContext(s, why);
        if (!p->tlsContext_) return nullptr;
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
    Http2Request& h = h2Request_;
    h.scheme = spec_.tls ? "https" : "http";
    h.authority = spec_.host.empty() ? host + ":" + std::to_string(target_.endpoint.port()) : spec_.host;
    h.headers = {{"user-agent", "directord-healthcheck"}};
    if (spec_.grpcService) {
        h.method = "POST";
        h.path = "/grpc.health.v1.Health/Check";
        const auto ms = std::max<long long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(spec_.readTimeout).count());
        h.headers.insert(h.headers.end(), {{"content-type", "application/grpc"},
                                           {"te", "trailers"},
                                           {"grpc-timeout", std::to_string(ms) + "m"}});
        h.body = grpcHealthRequest(*spec_.grpcService);
    } else {
        h.path = spec_.path;
        h.headers.emplace_back("accept", "*/*");
    }
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
