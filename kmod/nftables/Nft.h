// Nft: the nft language through libnftables (Debian's libnftables-dev), the one place that library is
// called. Each run() is one netlink batch: the kernel applies all of it or none of it. Listing
// output can be stateless (no counter values, no set element timeouts), for comparing what the
// plane wrote with what the kernel holds.
#pragma once
#include <optional>
#include <string>

#include "base/Result.h"

struct nft_ctx;

namespace kmod::nftables {

class Nft {
public:
    Nft();
    ~Nft();
    Nft(const Nft&) = delete;
    Nft& operator=(const Nft&) = delete;

    bool ok() const { return ctx_ != nullptr; }
    // Runs `commands`; the kernel's answer when it refused them (nothing changed then).
    std::optional<std::string> run(const std::string& commands);
    // `list ...`: the output, or the error text.
    base::Result<std::string> list(const std::string& what, bool stateless);
    const std::string& lastError() const { return error_; }

private:
    nft_ctx* ctx_ = nullptr;
    std::string error_;
};

}  // namespace kmod::nftables
