#include "healthcheck/SmtpProbe.h"

#include <array>
#include <cctype>

#include "healthcheck/SocketErrors.h"

namespace healthcheck {

void SmtpReplyReader::reset() {
    pending_.clear();
    total_ = 0;
    code_ = 0;
    state_ = State::NeedMore;
}

SmtpReplyReader::State SmtpReplyReader::line(std::string_view l) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.size() < 3 || !std::isdigit(static_cast<unsigned char>(l[0])) ||
        !std::isdigit(static_cast<unsigned char>(l[1])) || !std::isdigit(static_cast<unsigned char>(l[2])))
        return State::Malformed;
    const int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    if (code_ != 0 && code != code_) return State::Malformed;  // every line of a reply has its code
    code_ = code;
    if (l.size() == 3 || l[3] == ' ') return State::Done;
    if (l[3] == '-') return State::NeedMore;
    return State::Malformed;
}

SmtpReplyReader::State SmtpReplyReader::feed(std::string_view bytes) {
    if (state_ != State::NeedMore) return state_;
    total_ += bytes.size();
    if (total_ > kMaxReply) return state_ = State::Malformed;
    pending_.append(bytes);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
        state_ = line(std::string_view(pending_).substr(start, nl - start));
        if (state_ != State::NeedMore) return state_;  // bytes after the reply's end are not read
    }
    pending_.erase(0, start);
    return state_;
}

// One dialogue on a connected socket: greeting, HELO, QUIT, each reply under the read timeout.
struct SmtpProbe::Attempt : std::enable_shared_from_this<SmtpProbe::Attempt> {
    enum class Step { Greeting, Helo, Quit };
    Attempt(asio::ip::tcp::socket s, const SmtpSpec& sp, Done d, std::chrono::steady_clock::time_point t0)
        : socket(std::move(s)), timer(socket.get_executor()), spec(sp), done(std::move(d)), start(t0) {}

    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    SmtpSpec spec;  // a copy: the attempt may outlive a cancelled probe by a handler
    Done done;
    std::chrono::steady_clock::time_point start;
    SmtpReplyReader reader;
    Step step = Step::Greeting;
    std::string out;
    std::array<char, 1024> buf;
    bool finished = false;

    void finish(ProbeResult r) {
        if (finished) return;
        finished = true;
        timer.cancel();
        abortiveClose(socket);
        r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        auto d = std::move(done);
        if (d) d(std::move(r));
    }
    void cancel() {
        finished = true;
        done = nullptr;
        timer.cancel();
        abortiveClose(socket);
    }
    void readReply() {
        reader.reset();
        timer.expires_after(spec.readTimeout);
        auto self = shared_from_this();
        timer.async_wait([self](const boost::system::error_code& ec) {
            if (ec || self->finished) return;
            if (self->step == Step::Quit) return self->finish(ProbeResult::success());  // HELO was answered
            self->finish(ProbeResult::fail(Failure::Timeout));
        });
        readMore();
    }
    void readMore() {
        auto self = shared_from_this();
        socket.async_read_some(asio::buffer(buf), [self](const boost::system::error_code& ec, std::size_t n) {
            if (self->finished) return;
            if (ec) {
                if (self->step == Step::Quit) return self->finish(ProbeResult::success());
                return self->finish(ec == asio::error::eof ? ProbeResult::fail(Failure::Closed) : fromSocketError(ec));
            }
            switch (self->reader.feed(std::string_view(self->buf.data(), n))) {
            case SmtpReplyReader::State::NeedMore: return self->readMore();
            case SmtpReplyReader::State::Malformed:
                if (self->step == Step::Quit) return self->finish(ProbeResult::success());
                return self->finish(ProbeResult::fail(Failure::SmtpReply, 0));
            case SmtpReplyReader::State::Done: return self->replied(self->reader.code());
            }
        });
    }
    void replied(int code) {
        timer.cancel();
        switch (step) {
        case Step::Greeting:
            if (code != 220) return finish(ProbeResult::fail(Failure::SmtpReply, code));
            step = Step::Helo;
            return send("HELO " + spec.helo + "\r\n");
        case Step::Helo:
            if (code != 250) return finish(ProbeResult::fail(Failure::SmtpReply, code));
            step = Step::Quit;
            return send("QUIT\r\n");
        case Step::Quit: return finish(ProbeResult::success());
        }
    }
    void send(std::string line) {
        out = std::move(line);
        auto self = shared_from_this();
        asio::async_write(socket, asio::buffer(out), [self](const boost::system::error_code& ec, std::size_t) {
            if (self->finished) return;
            if (ec) return self->finish(fromSocketError(ec));
            self->readReply();
        });
    }
};

void SmtpProbe::run(Done done) {
    cancel();
    const auto start = std::chrono::steady_clock::now();
    connector_ = std::make_shared<Connector>(io_, spec_.target);
    connector_->start([this, done = std::move(done), start](const boost::system::error_code& ec,
                                                            asio::ip::tcp::socket& s) mutable {
        if (ec) {
            ProbeResult r = fromSocketError(ec);
            r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
            return done(r);
        }
        attempt_ = std::make_shared<Attempt>(std::move(s), spec_, std::move(done), start);
        attempt_->readReply();
    });
}

void SmtpProbe::cancel() {
    if (connector_) connector_->cancel();
    connector_.reset();
    if (attempt_) attempt_->cancel();
    attempt_.reset();
}

}  // namespace healthcheck
