// Http2Client: one HTTP/2 request on a fresh connection, as a health check makes it, over
// nghttp2 (Debian's libnghttp2, made for HTTP/2: framing, HPACK, flow control). Pure, like
// HttpResponseParser: the caller moves bytes (output() to the peer, feed() from it), so the same
// client runs over TCP (h2c, prior knowledge) and TLS (ALPN h2). Used by the http/https checks
// with `http2` and by the grpc check. Malformed input ends in Error, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "healthcheck/ProbeResult.h"

namespace healthcheck {

struct Http2Request {
    std::string method = "GET";
    std::string scheme = "http";
    std::string authority;  // host[:port]
    std::string path = "/";
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
    std::optional<std::string> body;                            // none: no DATA frame
};

class Http2Client {
public:
    enum class State { NeedMore, Done, Error };

    Http2Client(Http2Request request, std::size_t maxBody);
    ~Http2Client();
    Http2Client(const Http2Client&) = delete;
    Http2Client& operator=(const Http2Client&) = delete;

    // Bytes to send to the peer now (the preface and request first; then acknowledgements and
    // window updates as input arrives). Empty: nothing to send. A protocol error found in the
    // input ends the exchange here (state() Error) once nghttp2's GOAWAY is written.
    std::string output();
    State feed(std::string_view data);
    State finishEof();  // the peer closed: Done if the stream had ended, else Error (Closed)

    State state() const { return state_; }
    Failure error() const { return error_; }
    int status() const { return status_; }
    const std::string& body() const { return body_; }
    // A response header or trailer (lower-case name), the last of that name.
    std::optional<std::string> header(std::string_view name) const;
    // Every response header and trailer as "name: value\r\n" lines.
    std::string headersText() const;

    struct Session;

private:
    friend struct Http2Callbacks;
    State fail(Failure f);
    Http2Request request_;
    std::size_t maxBody_;
    std::unique_ptr<Session> session_;
    std::size_t bodySent_ = 0;
    bool received_ = false;
    State state_ = State::NeedMore;
    Failure error_ = Failure::None;
    int status_ = 0;
    std::string body_;
    std::vector<std::pair<std::string, std::string>> responseHeaders_;
    std::int32_t stream_ = -1;
};

}  // namespace healthcheck
