// `directord --genhash URL`: fetches URL the way an http/https check does and prints the MD5 digest
// of the body, the value a check's `digest` expects (keepalived's genhash prints the same).
#pragma once
#include <optional>
#include <string>

namespace director {

struct UrlParts {
    bool tls = false;
    std::string host;  // as written (a name or an address)
    std::uint16_t port = 80;
    std::string path = "/";
};
std::optional<UrlParts> parseUrl(const std::string& url);

// Returns the process exit code; prints the digest (or, verbose, status and digest) on stdout.
int genhash(const std::string& url, bool verbose, double timeoutSeconds);

}  // namespace director
