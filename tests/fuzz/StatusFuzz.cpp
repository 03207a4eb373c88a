// libFuzzer: the HTTP status listener's request parser (httpResponse) takes any request head and
// answers with one well-formed status line; the handler sees only an absolute path without its
// query, and only for GET or HEAD.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "director/status/StatusServer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    const std::string head(reinterpret_cast<const char*>(data), size);
    bool called = false;
    const director::status::SyncHandler handler = [&](const std::string& path) -> std::optional<director::status::HttpBody> {
        called = true;
        if (path.empty() || path[0] != '/' || path.find('?') != std::string::npos) std::abort();
        if (path == "/status") return director::status::HttpBody{"application/json", "{}\n"};
        return std::nullopt;
    };
    bool ok = false;
    const std::string out = director::status::httpResponse(head, handler, &ok);
    if (out.rfind("HTTP/1.1 ", 0) != 0 || out.find("\r\n\r\n") == std::string::npos) std::abort();
    if (ok && (!called || out.rfind("HTTP/1.1 200 ", 0) != 0)) std::abort();
    if (called && head.rfind("GET ", 0) != 0 && head.rfind("HEAD ", 0) != 0) std::abort();
    return 0;
}
