#include "director/protocol/Frame.h"

#include <cstring>

namespace director::protocol {

std::string frameBytes(std::uint8_t type, std::string_view payload) {
    const std::uint32_t len = static_cast<std::uint32_t>(payload.size() + 1);
    std::string out(sizeof len + len, '\0');
    std::memcpy(out.data(), &len, sizeof len);
    out[sizeof len] = static_cast<char>(type);
    std::memcpy(out.data() + sizeof len + 1, payload.data(), payload.size());
    return out;
}

std::optional<Frame> FrameReader::next() {
    if (broken_) return std::nullopt;
    std::uint32_t len = 0;
    if (buf_.size() - pos_ < sizeof len) return std::nullopt;
    std::memcpy(&len, buf_.data() + pos_, sizeof len);
    if (len == 0 || len > max_) {
        broken_ = true;
        return std::nullopt;
    }
    if (buf_.size() - pos_ - sizeof len < len) return std::nullopt;
    Frame f;
    f.type = static_cast<std::uint8_t>(buf_[pos_ + sizeof len]);
    f.payload.assign(buf_, pos_ + sizeof len + 1, len - 1);
    pos_ += sizeof len + len;
    if (pos_ == buf_.size() || pos_ > (1u << 20)) {  // compact: drop what was consumed
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    return f;
}

}  // namespace director::protocol
