#include "healthcheck/Http2Client.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace healthcheck {

struct Http2Client::Session {
    nghttp2_session* s = nullptr;
    ~Session() {
        if (s) nghttp2_session_del(s);
    }
};

namespace {

Http2Client* self(void* user) { return static_cast<Http2Client*>(user); }

}  // namespace

// nghttp2's callbacks, with the client's state (a friend of it).
struct Http2Callbacks {
    static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                        const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
        Http2Client& c = *self(user);
        if (frame->hd.stream_id != c.stream_) return 0;
        const std::string_view n(reinterpret_cast<const char*>(name), namelen);
        const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") {
            int code = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
            if (ec != std::errc{} || p != v.data() + v.size()) return NGHTTP2_ERR_CALLBACK_FAILURE;
            if (code >= 200 || c.status_ == 0) c.status_ = code;  // 1xx: an interim response
        } else if (c.responseHeaders_.size() < 128) {
            c.responseHeaders_.emplace_back(std::string(n), std::string(v));
        }
        return 0;
    }
    static int onData(nghttp2_session*, std::uint8_t, std::int32_t stream, const std::uint8_t* data, std::size_t len,
                      void* user) {
        Http2Client& c = *self(user);
        if (stream != c.stream_) return 0;
        if (c.body_.size() + len > c.maxBody_) {
            c.fail(Failure::BodyTooLarge);
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        c.body_.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }
    static int onClose(nghttp2_session*, std::int32_t stream, std::uint32_t errorCode, void* user) {
        Http2Client& c = *self(user);
        if (stream != c.stream_ || c.state_ != Http2Client::State::NeedMore) return 0;
        if (errorCode != NGHTTP2_NO_ERROR || c.status_ == 0) c.fail(errorCode ? Failure::Reset : Failure::HttpMalformed);
        else c.state_ = Http2Client::State::Done;
        return 0;
    }
    static ssize_t readBody(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                  std::uint32_t* flags, nghttp2_data_source*, void* user) {
        Http2Client& c = *self(user);
        const std::string& b = *c.request_.body;
        const std::size_t n = std::min(length, b.size() - c.bodySent_);
        std::memcpy(buf, b.data() + c.bodySent_, n);
        c.bodySent_ += n;
        if (c.bodySent_ == b.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }
};

Http2Client::Http2Client(Http2Request request, std::size_t maxBody)
    : request_(std::move(request)), maxBody_(maxBody), session_(std::make_unique<Session>()) {
    nghttp2_session_callbacks* cb = nullptr;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        fail(Failure::Error);
        return;
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, &Http2Callbacks::onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Http2Callbacks::onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Http2Callbacks::onClose);
    const int rc = nghttp2_session_client_new(&session_->s, cb, this);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) {
        fail(Failure::Error);
        return;
    }
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1}};
    nghttp2_submit_settings(session_->s, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    std::vector<nghttp2_nv> nva;
    auto add = [&nva](const std::string& n, const std::string& v) {
        nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                       reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                       NGHTTP2_NV_FLAG_NONE});
    };
    static const std::string kMethod = ":method", kScheme = ":scheme", kAuthority = ":authority", kPath = ":path";
    add(kMethod, request_.method);
    add(kScheme, request_.scheme);
    add(kAuthority, request_.authority);
    add(kPath, request_.path);
    for (const auto& [n, v] : request_.headers) add(n, v);
    nghttp2_data_provider provider{};
    provider.read_callback = &Http2Callbacks::readBody;
    stream_ = nghttp2_submit_request(session_->s, nullptr, nva.data(), nva.size(),
                                      request_.body ? &provider : nullptr, this);
    if (stream_ < 0) fail(Failure::Error);
}

Http2Client::~Http2Client() = default;

Http2Client::State Http2Client::fail(Failure f) {
    if (state_ == State::NeedMore) {
        error_ = f;
        state_ = State::Error;
    }
    return state_;
}

std::string Http2Client::output() {
    std::string out;
    if (!session_->s) return out;
    const std::uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_->s, &data)) > 0;)
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    // a connection error: nghttp2 has queued its GOAWAY (sent now) and reads no more
    if (state_ == State::NeedMore && !nghttp2_session_want_read(session_->s)) fail(Failure::HttpMalformed);
    return out;
}

Http2Client::State Http2Client::feed(std::string_view data) {
    if (state_ != State::NeedMore) return state_;
    if (!received_ && data.substr(0, 5) == "HTTP/") return fail(Failure::HttpMalformed);  // an HTTP/1 server
    received_ = true;
    const ssize_t n =
        nghttp2_session_mem_recv(session_->s, reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    if (n < 0) return fail(Failure::HttpMalformed);  // a callback's own failure was set first
    // nghttp2 ends a session on a protocol error, or on a GOAWAY that leaves our stream out
    if (state_ == State::NeedMore && !nghttp2_session_want_read(session_->s)) return fail(Failure::HttpMalformed);
    return state_;
}

Http2Client::State Http2Client::finishEof() {
    if (state_ == State::NeedMore) return fail(Failure::Closed);
    return state_;
}

std::optional<std::string> Http2Client::header(std::string_view name) const {
    for (auto it = responseHeaders_.rbegin(); it != responseHeaders_.rend(); ++it)
        if (it->first == name) return it->second;
    return std::nullopt;
}

std::string Http2Client::headersText() const {
    std::string out;
    for (const auto& [n, v] : responseHeaders_) out += n + ": " + v + "\r\n";
    return out;
}

}  // namespace healthcheck
