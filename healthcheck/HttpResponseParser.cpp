#include "healthcheck/HttpResponseParser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace healthcheck {
namespace {

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

HttpResponseParser::State HttpResponseParser::feed(std::string_view data) {
    if (state_ != State::NeedMore) return state_;
    pending_.append(data.data(), data.size());
    if (phase_ == Phase::Headers) {
        // Reject what is not HTTP at once, without waiting for more.
        const size_t n = std::min<size_t>(pending_.size(), 5);
        if (pending_.compare(0, n, std::string_view("HTTP/").substr(0, n)) != 0) return fail(Failure::HttpMalformed);
        if (parseHeaders() != State::NeedMore || phase_ == Phase::Headers) return state_;
    }
    return consumeBody();
}

HttpResponseParser::State HttpResponseParser::parseHeaders() {
    const size_t end = pending_.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (pending_.size() > kMaxHeaderBytes) return fail(Failure::HttpMalformed);
        return state_;
    }
    const std::string_view head(pending_.data(), end);
    size_t lineEnd = head.find("\r\n");
    const std::string_view statusLine = head.substr(0, lineEnd);
    // "HTTP/1.1 200 OK"
    if (statusLine.size() < 12 || statusLine.compare(0, 5, "HTTP/") != 0 || statusLine[8] != ' ')
        return fail(Failure::HttpMalformed);
    int code = 0;
    auto [p, ec] = std::from_chars(statusLine.data() + 9, statusLine.data() + 12, code);
    if (ec != std::errc{} || p != statusLine.data() + 12 || code < 100 || code > 999 ||
        (statusLine.size() > 12 && statusLine[12] != ' '))
        return fail(Failure::HttpMalformed);
    status_ = code;
    while (lineEnd != std::string_view::npos) {
        const size_t start = lineEnd + 2;
        lineEnd = head.find("\r\n", start);
        const std::string_view line =
            head.substr(start, lineEnd == std::string_view::npos ? head.npos : lineEnd - start);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail(Failure::HttpMalformed);
        const std::string name = lower(trim(line.substr(0, colon)));
        const std::string_view value = trim(line.substr(colon + 1));
        if (name == "content-length") {
            std::uint64_t len = 0;
            auto [vp, vec] = std::from_chars(value.data(), value.data() + value.size(), len);
            if (vec != std::errc{} || vp != value.data() + value.size()) return fail(Failure::HttpMalformed);
            haveLength_ = true;
            remaining_ = len;
        } else if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) {
            chunked_ = true;
        }
    }
    if (keepHead_) head_.assign(pending_, 0, end + 4);
    pending_.erase(0, end + 4);
    if (!wantBody_) {
        phase_ = Phase::Finished;
        return done();
    }
    // 1xx, 204 and 304 have no body.
    if (status_ < 200 || status_ == 204 || status_ == 304) {
        phase_ = Phase::Finished;
        return done();
    }
    phase_ = chunked_ ? Phase::ChunkSize : Phase::Body;
    return state_;
}

HttpResponseParser::State HttpResponseParser::appendBody(std::string_view bytes) {
    if (body_.size() + bytes.size() > maxBody_) return fail(Failure::BodyTooLarge);
    body_.append(bytes.data(), bytes.size());
    return state_;
}

HttpResponseParser::State HttpResponseParser::consumeBody() {
    while (state_ == State::NeedMore) {
        switch (phase_) {
        case Phase::Headers:
        case Phase::Finished: return state_;
        case Phase::Body: {
            if (!haveLength_) {  // until the connection closes
                appendBody(pending_);
                pending_.clear();
                return state_;
            }
            const size_t take = static_cast<size_t>(std::min<std::uint64_t>(remaining_, pending_.size()));
            if (appendBody(std::string_view(pending_).substr(0, take)) != State::NeedMore) return state_;
            pending_.erase(0, take);
            remaining_ -= take;
            if (remaining_ == 0) {
                phase_ = Phase::Finished;
                return done();
            }
            return state_;
        }
        case Phase::ChunkSize: {
            const size_t eol = pending_.find("\r\n");
            if (eol == std::string::npos) {
                if (pending_.size() > 1024) return fail(Failure::HttpMalformed);
                return state_;
            }
            std::string_view line(pending_.data(), eol);
            line = line.substr(0, line.find(';'));  // chunk extensions
            line = trim(line);
            std::uint64_t size = 0;
            auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
            if (line.empty() || ec != std::errc{} || p != line.data() + line.size())
                return fail(Failure::HttpMalformed);
            pending_.erase(0, eol + 2);
            remaining_ = size;
            phase_ = size == 0 ? Phase::Trailers : Phase::ChunkData;
            break;
        }
        case Phase::ChunkData: {
            const size_t take = static_cast<size_t>(std::min<std::uint64_t>(remaining_, pending_.size()));
            if (appendBody(std::string_view(pending_).substr(0, take)) != State::NeedMore) return state_;
            pending_.erase(0, take);
            remaining_ -= take;
            if (remaining_ > 0) return state_;
            phase_ = Phase::ChunkDataEnd;
            break;
        }
        case Phase::ChunkDataEnd:
            if (pending_.size() < 2) return state_;
            if (pending_.compare(0, 2, "\r\n") != 0) return fail(Failure::HttpMalformed);
            pending_.erase(0, 2);
            phase_ = Phase::ChunkSize;
            break;
        case Phase::Trailers: {
            const size_t eol = pending_.find("\r\n");
            if (eol == std::string::npos) {
                if (pending_.size() > kMaxHeaderBytes) return fail(Failure::HttpMalformed);
                return state_;
            }
            pending_.erase(0, eol + 2);
            if (eol == 0) {
                phase_ = Phase::Finished;
                return done();
            }
            break;
        }
        }
    }
    return state_;
}

HttpResponseParser::State HttpResponseParser::finishEof() {
    if (state_ != State::NeedMore) return state_;
    if (phase_ == Phase::Body && !haveLength_) {
        phase_ = Phase::Finished;
        return done();
    }
    return fail(Failure::Closed);
}

}  // namespace healthcheck
