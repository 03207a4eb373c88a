// SmtpProbe (keepalived's SMTP_CHECK): connect, the greeting must be 220, HELO must get 250, then
// QUIT. Replies may span lines ("250-..." continues, "250 ..." ends, RFC 5321 §4.2.1); each step
// has the read timeout. keepalived reads only the first line of a reply (so a multi-line 220
// greeting fails there); here the whole reply is read and its code judged.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/Asio.h"
#include "healthcheck/Probe.h"
#include "healthcheck/TcpProbe.h"

namespace healthcheck {

// Reads one SMTP reply from bytes fed in pieces.
class SmtpReplyReader {
public:
    enum class State { NeedMore, Done, Malformed };
    static constexpr std::size_t kMaxReply = 4096;  // a longer reply is malformed
    State feed(std::string_view bytes);
    int code() const { return code_; }
    void reset();

private:
    State line(std::string_view l);
    std::string pending_;
    std::size_t total_ = 0;
    int code_ = 0;
    State state_ = State::NeedMore;
};

struct SmtpSpec {
    TcpTarget target;
    std::string helo = "smtpchecker.directord";
    std::chrono::microseconds readTimeout{5'000'000};
};

class SmtpProbe : public Probe {
public:
    SmtpProbe(asio::io_context& io, SmtpSpec spec) : io_(io), spec_(std::move(spec)) {}
    ~SmtpProbe() override { cancel(); }
    void run(Done done) override;
    void cancel() override;

private:
    struct Attempt;
    asio::io_context& io_;
    SmtpSpec spec_;
    std::shared_ptr<Connector> connector_;
    std::shared_ptr<Attempt> attempt_;
};

}  // namespace healthcheck
