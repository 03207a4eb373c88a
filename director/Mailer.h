// Mail alerts (keepalived's notification_email / smtp_alert): a message per transition, sent to
// global.smtp's recipients through its server, as keepalived sends them (the same subjects and
// bodies: core/smtp.c, vrrp/vrrp_notify.c, check/check_*.c, check/ipwrapper.c). Asynchronous on
// the owner's loop: send() queues and returns; one SMTP session at a time; a message that fails
// is tried again after 10 s and 60 s, then dropped and logged; at most 64 wait (the oldest goes).
// EHLO first, HELO when the server refuses it; STARTTLS when the server offers it and
// global.smtp.starttls is on (keepalived sends plain text; the certificate is not verified, as
// MTAs do opportunistically). Every step has smtp.connect_timeout.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "base/Asio.h"
#include "conf/Config.h"

namespace director {

class Mailer {
public:
    struct Counters {
        std::uint64_t sent = 0, failedAttempts = 0, dropped = 0;
    };
    explicit Mailer(asio::io_context& io);
    ~Mailer();
    void configure(const conf::Config& cfg);
    bool enabled() const { return settings_.server.has_value() && !settings_.to.empty(); }
    // "[router id] " + subject, as keepalived prefixes every subject.
    void send(const std::string& subject, const std::string& body);
    const Counters& counters() const { return counters_; }
    // The message as sent after DATA (headers, body, the final dot), for `to` and `from`.
    static std::string message(const std::string& from, const std::vector<std::string>& to,
                               const std::string& subject, const std::string& body);

    // keepalived's subjects and bodies
    static std::string instanceSubject(const std::string& name, const char* state);  // "VRRP Instance X - ..."
    static std::string instanceBody(const char* state);                           // "=> VRRP Instance is now ..."
    static std::string groupSubject(const std::string& name, const char* state);
    static std::string groupBody(const char* state);
    // "Realserver [10.0.1.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP"
    static std::string realServerSubject(const std::string& rs, const std::string& vs, bool up);
    static std::string realServerBody(const std::string& checkType, bool up);  // "=> TCP CHECK succeed on service <="

private:
    struct Item {
        std::string subject, body;
        int attempts = 0;
    };
    struct Session;
    void next();
    void finished(bool ok, const std::string& why);

    asio::io_context& io_;
    conf::SmtpConfig settings_;
    std::string routerId_, helo_, from_;
    std::deque<Item> queue_;
    std::shared_ptr<Session> session_;
    std::unique_ptr<asio::steady_timer> retry_;
    std::shared_ptr<void> tls_;  // asio::ssl::context
    Counters counters_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace director
