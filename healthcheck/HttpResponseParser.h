// HttpResponseParser: incremental parser of one HTTP/1.x response, as a health check reads it.
// Pure (no I/O): feed bytes as they arrive, then finishEof() at end of stream. It decodes
// Content-Length, chunked and read-until-close bodies, keeps at most maxBody bytes of body (more is
// an error only when the body is wanted, for a digest or a regex), and stops as early as it can:
// right after the headers when the body is not wanted. Malformed input ends in Error, never a crash.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "healthcheck/ProbeResult.h"

namespace healthcheck {

class HttpResponseParser {
public:
    enum class State { NeedMore, Done, Error };

    // keepHead: keep the status line and headers (with their final empty line) for head().
    HttpResponseParser(size_t maxBody, bool wantBody, bool keepHead = false)
        : maxBody_(maxBody), wantBody_(wantBody), keepHead_(keepHead) {}
    State feed(std::string_view data);
    State finishEof();

    State state() const { return state_; }
    int status() const { return status_; }
    const std::string& body() const { return body_; }
    const std::string& head() const { return head_; }
    Failure error() const { return error_; }

    static constexpr size_t kMaxHeaderBytes = 65536;

private:
    enum class Phase { Headers, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Finished };
    State fail(Failure f) {
        error_ = f;
        return state_ = State::Error;
    }
    State done() { return state_ = State::Done; }
    State parseHeaders();
    State consumeBody();
    State appendBody(std::string_view bytes);

    size_t maxBody_;
    bool wantBody_;
    bool keepHead_;
    std::string head_;
    State state_ = State::NeedMore;
    Phase phase_ = Phase::Headers;
    Failure error_ = Failure::None;
    std::string pending_;  // bytes not yet consumed
    std::string body_;
    int status_ = 0;
    bool chunked_ = false;
    bool haveLength_ = false;
    std::uint64_t remaining_ = 0;  // Content-Length left, or current chunk left
};

}  // namespace healthcheck
