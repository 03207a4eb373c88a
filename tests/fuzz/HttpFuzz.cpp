// libFuzzer: what a health check reads from an HTTP server: the HTTP/1 response parser and the
// HTTP/2 client (nghttp2 behind it) fed the input in pieces the first byte chooses, and the gRPC
// health response decoder fed it whole.
#include <cstdint>
#include <string_view>

#include "healthcheck/Http2Client.h"
#include "healthcheck/HttpProbe.h"
#include "healthcheck/HttpResponseParser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t step = 1 + data[0] % 64;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    for (bool wantBody : {false, true}) {
        healthcheck::HttpResponseParser p(4096, wantBody, wantBody);
        auto st = healthcheck::HttpResponseParser::State::NeedMore;
        for (size_t i = 0; i < in.size() && st == healthcheck::HttpResponseParser::State::NeedMore; i += step)
            st = p.feed(in.substr(i, step));
        if (st == healthcheck::HttpResponseParser::State::NeedMore) p.finishEof();
        (void)p.body().size();
    }
    healthcheck::Http2Request req;
    req.authority = "fuzz:80";
    req.body = healthcheck::grpcHealthRequest("svc");
    healthcheck::Http2Client h2(req, 4096);
    (void)h2.output();
    auto st = healthcheck::Http2Client::State::NeedMore;
    for (size_t i = 0; i < in.size() && st == healthcheck::Http2Client::State::NeedMore; i += step) {
        st = h2.feed(in.substr(i, step));
        (void)h2.output();
    }
    if (st == healthcheck::Http2Client::State::NeedMore) h2.finishEof();
    (void)h2.header("grpc-status");
    (void)healthcheck::grpcServingStatus(in);
    return 0;
}
