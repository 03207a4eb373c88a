// libFuzzer: the HTTP response parser, fed the input in pieces the first byte chooses.
#include <cstdint>
#include <string_view>

#include "healthcheck/HttpResponseParser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t step = 1 + data[0] % 64;
    for (bool wantBody : {false, true}) {
        healthcheck::HttpResponseParser p(4096, wantBody);
        std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
        auto st = healthcheck::HttpResponseParser::State::NeedMore;
        for (size_t i = 0; i < in.size() && st == healthcheck::HttpResponseParser::State::NeedMore; i += step)
            st = p.feed(in.substr(i, step));
        if (st == healthcheck::HttpResponseParser::State::NeedMore) p.finishEof();
        (void)p.body().size();
    }
    return 0;
}
