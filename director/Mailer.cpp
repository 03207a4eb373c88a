#include "director/Mailer.h"

#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <chrono>
#include <ctime>

#include "base/AsioAddress.h"
#include "base/Log.h"
#include "healthcheck/SmtpProbe.h"

namespace director {

namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr size_t kMaxQueued = 64;
constexpr int kAttempts = 3;
const std::chrono::seconds kRetryAfter[] = {std::chrono::seconds(10), std::chrono::seconds(60)};

std::string hostName() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

}  // namespace

std::string Mailer::instanceSubject(const std::string& name, const char* state) {
    return "VRRP Instance " + name + " - " + state;
}

std::string Mailer::instanceBody(const char* state) {
    const std::string s = state;
    if (s == "Entering MASTER state") return "=> VRRP Instance is now owning VRRP VIPs <=";
    if (s == "Stopping") return "=> VRRP Instance stopping <=";
    return "=> VRRP Instance is no longer owning VRRP VIPs <=";
}

std::string Mailer::groupSubject(const std::string& name, const char* state) {
    return "VRRP Group " + name + " - " + state;
}

std::string Mailer::groupBody(const char* state) {
    const std::string s = state;
    if (s == "Entering MASTER state") return "=> All VRRP group instances are now in MASTER state <=";
    if (s == "Entering BACKUP state") return "=> All VRRP group instances are now in BACKUP state <=";
    if (s == "Entering FAULT state") return "=> All VRRP group instances are now in FAULT state <=";
    return "=> All VRRP group instances are now stopping <=";
}

std::string Mailer::realServerSubject(const std::string& rs, const std::string& vs, bool up) {
    return "Realserver " + rs + " of virtual server " + vs + " - " + (up ? "UP" : "DOWN");
}

std::string Mailer::realServerBody(const std::string& type, bool up) {
    // each keepalived checker words it its own way (check/check_*.c)
    if (type == "tcp") return up ? "=> TCP CHECK succeed on service <=" : "=> TCP CHECK failed on service <=";
    if (type == "udp") return up ? "=> UDP CHECK succeed on service <=" : "=> UDP CHECK failed on service <=";
    if (type == "ping") return up ? "=> ICMP CHECK succeed on service <=" : "=> ICMP CHECK failed on service <=";
    if (type == "dns") return up ? "=> DNS_CHECK: succeed on service <=" : "=> DNS_CHECK: failed on service <=";
    if (type == "script") return up ? "=> MISC CHECK succeeded on service <=" : "=> MISC CHECK failed on service <=";
    if (type == "http" || type == "https")
        return up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service : HTTP/SSL request failed <=";
    return up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service <=";
}

std::string Mailer::message(const std::string& from, const std::vector<std::string>& to, const std::string& subject,
                            const std::string& body) {
    char date[80];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
    std::string m = std::string("Date: ") + date + "\r\nFrom: " + from + "\r\nSubject: " + subject +
                    "\r\nX-Mailer: directord\r\nTo:";
    for (size_t i = 0; i < to.size(); ++i) m += (i ? ",\r\n " : " ") + to[i];
    m += "\r\n\r\n";
    // the body's lines, dot-stuffed (RFC 5321 4.5.2), each ending in CRLF
    size_t start = 0;
    while (start <= body.size()) {
        size_t nl = body.find('\n', start);
        if (nl == std::string::npos) nl = body.size();
        std::string line = body.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && line[0] == '.') line.insert(line.begin(), '.');
        m += line + "\r\n";
        start = nl + 1;
    }
    m += "\r\n.\r\n";
    return m;
}

// One SMTP conversation: connect, 220, EHLO (HELO if refused), STARTTLS when offered, MAIL, RCPT
// for each recipient, DATA, the message, QUIT.
struct Mailer::Session : std::enable_shared_from_this<Mailer::Session> {
    Session(asio::io_context& io) : sock(io), timer(io) {}
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket>> tls;
    asio::steady_timer timer;
    std::chrono::steady_clock::duration stepTimeout{};
    healthcheck::SmtpReplyReader reader;
    std::string reply;  // the current reply's text (EHLO's lines name STARTTLS)
    std::array<char, 2048> buf{};
    std::function<void(bool, std::string)> done;
    bool finished = false;

    void fail(const std::string& why) {
        if (finished) return;
        finished = true;
        timer.cancel();
        boost::system::error_code ignore;
        sock.close(ignore);
        if (tls) tls->lowest_layer().close(ignore);
        auto d = std::move(done);
        d(false, why);
    }
    void succeed() {
        if (finished) return;
        finished = true;
        timer.cancel();
        boost::system::error_code ignore;
        if (tls) tls->lowest_layer().close(ignore);
        else sock.close(ignore);
        auto d = std::move(done);
        d(true, "");
    }
    void arm(const char* what) {
        timer.expires_after(stepTimeout);
        timer.async_wait([self = shared_from_this(), what](const boost::system::error_code& ec) {
            if (!ec) self->fail(std::string("no answer to ") + what + " in time");
        });
    }
    // Sends `line` (nothing when empty) and reads the reply; `next` gets its code.
    void exchange(std::string line, const char* what, std::function<void(int)> next) {
        if (finished) return;
        arm(what);
        auto self = shared_from_this();
        auto data = std::make_shared<std::string>(std::move(line));
        auto afterWrite = [self, what, next, data](const boost::system::error_code& ec, size_t) {
            if (ec) return self->fail(std::string(what) + ": " + ec.message());
            self->reader.reset();
            self->reply.clear();
            self->readReply(what, next);
        };
        if (data->empty()) return afterWrite({}, 0);
        if (tls) asio::async_write(*tls, asio::buffer(*data), afterWrite);
        else asio::async_write(sock, asio::buffer(*data), afterWrite);
    }
    void readReply(const char* what, std::function<void(int)> next) {
        auto self = shared_from_this();
        auto onRead = [self, what, next](const boost::system::error_code& ec, size_t n) {
            if (ec) return self->fail(std::string(what) + ": " + ec.message());
            const std::string_view got(self->buf.data(), n);
            self->reply.append(got);
            switch (self->reader.feed(got)) {
            case healthcheck::SmtpReplyReader::State::NeedMore: return self->readReply(what, next);
            case healthcheck::SmtpReplyReader::State::Malformed:
                return self->fail(std::string(what) + ": not an SMTP reply");
            case healthcheck::SmtpReplyReader::State::Done:
                self->timer.cancel();
                return next(self->reader.code());
            }
        };
        if (tls) tls->async_read_some(asio::buffer(buf), onRead);
        else sock.async_read_some(asio::buffer(buf), onRead);
    }
};

Mailer::Mailer(asio::io_context& io) : io_(io) {}

Mailer::~Mailer() {
    if (session_) session_->done = [](bool, std::string) {};
}

void Mailer::configure(const conf::Config& cfg) {
    settings_ = cfg.global.smtp;
    routerId_ = cfg.global.routerId.empty() ? hostName() : cfg.global.routerId;
    helo_ = settings_.heloName.empty() ? hostName() : settings_.heloName;
    from_ = settings_.from.empty() ? "directord@" + hostName() : settings_.from;
    if (!tls_) {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        ctx->set_verify_mode(ssl::verify_none);  // opportunistic, as MTAs encrypt to each other
        tls_ = ctx;
    }
}

void Mailer::send(const std::string& subject, const std::string& body) {
    if (!enabled()) return;
    if (queue_.size() >= kMaxQueued) {
        ++counters_.dropped;
        base::log::warning("mail: ", queue_.size(), " alerts wait for ", settings_.server->str(),
                           "; the oldest is dropped (", queue_.front().subject, ")");
        queue_.pop_front();
    }
    queue_.push_back(Item{"[" + routerId_ + "] " + subject, body, 0});
    if (!session_ && !retry_) next();
}

void Mailer::next() {
    if (session_ || queue_.empty() || !enabled()) return;
    auto s = std::make_shared<Session>(io_);
    session_ = s;
    s->stepTimeout = settings_.connectTimeout;
    Item& item = queue_.front();
    ++item.attempts;
    const std::string data = message(from_, settings_.to, item.subject, item.body);
    const auto to = settings_.to;
    const std::string from = from_, helo = helo_;
    const bool starttls = settings_.starttls;
    auto ctx = std::static_pointer_cast<ssl::context>(tls_);
    s->done = [this, alive = std::weak_ptr<int>(alive_)](bool ok, std::string why) {
        if (!alive.lock()) return;
        finished(ok, why);
    };
    // the steps, innermost last
    auto quit = [s] {
        s->exchange("QUIT\r\n", "QUIT", [s](int) { s->succeed(); });
    };
    auto body = [s, data, quit] {
        s->exchange(data, "the message", [s, quit](int code) {
            if (code != 250) return s->fail("the message was refused: " + std::to_string(code));
            quit();
        });
    };
    auto dataCmd = [s, body] {
        s->exchange("DATA\r\n", "DATA", [s, body](int code) {
            if (code != 354) return s->fail("DATA refused: " + std::to_string(code));
            body();
        });
    };
    // one RCPT TO per recipient; the function holds itself only weakly (the pending reply's
    // handler holds it), so nothing is left once the session ends
    auto rcpt = std::make_shared<std::function<void(size_t)>>();
    *rcpt = [s, to, dataCmd, self = std::weak_ptr<std::function<void(size_t)>>(rcpt)](size_t i) {
        if (i == to.size()) return dataCmd();
        s->exchange("RCPT TO:<" + to[i] + ">\r\n", "RCPT TO", [s, i, again = self.lock(), to](int code) {
            if (code != 250 && code != 251)
                return s->fail("recipient " + to[i] + " refused: " + std::to_string(code));
            (*again)(i + 1);
        });
    };
    auto mail = [s, from, rcpt] {
        s->exchange("MAIL FROM:<" + from + ">\r\n", "MAIL FROM", [s, rcpt](int code) {
            if (code != 250) return s->fail("sender refused: " + std::to_string(code));
            (*rcpt)(0);
        });
    };
    auto greeted = [s, helo, starttls, ctx, mail](bool ehloOk) {
        const bool offered = ehloOk && (s->reply.find("STARTTLS") != std::string::npos ||
                                        s->reply.find("starttls") != std::string::npos);
        if (!starttls || !offered || s->tls) return mail();
        s->exchange("STARTTLS\r\n", "STARTTLS", [s, helo, ctx, mail](int code) {
            if (code != 220) return s->fail("STARTTLS refused: " + std::to_string(code));
            s->tls = std::make_unique<ssl::stream<tcp::socket>>(std::move(s->sock), *ctx);
            s->arm("the TLS handshake");
            s->tls->async_handshake(ssl::stream_base::client, [s, helo, mail](const boost::system::error_code& ec) {
                s->timer.cancel();
                if (ec) return s->fail("TLS handshake: " + ec.message());
                s->exchange("EHLO " + helo + "\r\n", "EHLO", [s, mail](int again) {
                    if (again != 250) return s->fail("EHLO after STARTTLS refused: " + std::to_string(again));
                    mail();
                });
            });
        });
    };
    auto ehlo = [s, helo, greeted] {
        s->exchange("EHLO " + helo + "\r\n", "EHLO", [s, helo, greeted](int code) {
            if (code == 250) return greeted(true);
            // an old server: HELO, as keepalived always does
            s->exchange("HELO " + helo + "\r\n", "HELO", [s, greeted](int code2) {
                if (code2 != 250) return s->fail("HELO refused: " + std::to_string(code2));
                greeted(false);
            });
        });
    };
    s->arm("connect");
    s->sock.async_connect(tcp::endpoint(base::toAsio(settings_.server->address), settings_.server->port),
                          [s, ehlo](const boost::system::error_code& ec) {
                              if (ec) return s->fail("connect: " + ec.message());
                              s->exchange("", "the greeting", [s, ehlo](int code) {
                                  if (code != 220) return s->fail("greeting " + std::to_string(code));
                                  ehlo();
                              });
                          });
}

void Mailer::finished(bool ok, const std::string& why) {
    session_.reset();
    if (queue_.empty()) return;
    Item& item = queue_.front();
    if (ok) {
        ++counters_.sent;
        base::log::info("mail: sent \"", item.subject, "\" to ", settings_.to.size(), " recipient(s) via ",
                        settings_.server->str());
        queue_.pop_front();
        return next();
    }
    ++counters_.failedAttempts;
    if (item.attempts >= kAttempts) {
        ++counters_.dropped;
        base::log::error("mail: \"", item.subject, "\" not sent after ", item.attempts, " attempts (", why,
                         "); check global.smtp.server ", settings_.server->str(), " and that it accepts mail from here");
        queue_.pop_front();
        return next();
    }
    const auto wait = kRetryAfter[item.attempts - 1];
    base::log::warning("mail: \"", item.subject, "\" via ", settings_.server->str(), ": ", why, "; trying again in ",
                       wait.count(), " s");
    if (!retry_) retry_ = std::make_unique<asio::steady_timer>(io_);
    retry_->expires_after(wait);
    retry_->async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (ec || !alive.lock()) return;
        retry_.reset();
        next();
    });
}

}  // namespace director
