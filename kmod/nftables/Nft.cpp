#include "kmod/nftables/Nft.h"

#include <nftables/libnftables.h>

#include <cerrno>

namespace kmod::nftables {

Nft::Nft() {
    ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx_) return;
    nft_ctx_buffer_output(ctx_);
    nft_ctx_buffer_error(ctx_);
}

Nft::~Nft() {
    if (ctx_) nft_ctx_free(ctx_);
}

std::optional<std::string> Nft::run(const std::string& commands) {
    if (!ctx_) return std::string("libnftables: no context");
    nft_ctx_output_set_flags(ctx_, 0);
    const int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
    (void)nft_ctx_get_output_buffer(ctx_);  // drains it
    if (rc == 0) return std::nullopt;
    error_ = nft_ctx_get_error_buffer(ctx_);
    if (error_.empty()) error_ = "nft refused the transaction";
    return error_;
}

base::Result<std::string> Nft::list(const std::string& what, bool stateless) {
    if (!ctx_) return base::errnoCode(ENOSYS);
    nft_ctx_output_set_flags(ctx_, stateless ? NFT_CTX_OUTPUT_STATELESS : 0);
    const int rc = nft_run_cmd_from_buffer(ctx_, ("list " + what).c_str());
    std::string out = nft_ctx_get_output_buffer(ctx_);
    nft_ctx_output_set_flags(ctx_, 0);
    if (rc != 0) {
        error_ = nft_ctx_get_error_buffer(ctx_);
        return base::errnoCode(error_.find("No such file") != std::string::npos ? ENOENT : EINVAL);
    }
    return out;
}

}  // namespace kmod::nftables
