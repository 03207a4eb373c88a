// Frames: how typed messages travel on a stream socket (between the supervisor and its workers,
// and on the control socket). A frame is a 4-byte length (host order) of what follows, one type
// byte, and the payload. FrameReader cuts a byte stream back into frames and refuses a frame
// longer than its limit (the stream is then unusable: its owner closes it).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace director::protocol {

struct Frame {
    std::uint8_t type = 0;
    std::string payload;
};

// Frames between the supervisor and a worker are at most this long (a config of 10,000 virtual
// servers is ~15 MB).
inline constexpr size_t kMaxWorkerFrame = 512u << 20;

std::string frameBytes(std::uint8_t type, std::string_view payload);

class FrameReader {
public:
    explicit FrameReader(size_t maxFrame) : max_(maxFrame) {}
    void append(const char* data, size_t n) { buf_.append(data, n); }
    // The next whole frame, if one has arrived.
    std::optional<Frame> next();
    // A frame announced a length past the limit.
    bool broken() const { return broken_; }

private:
    std::string buf_;
    size_t pos_ = 0;
    size_t max_;
    bool broken_ = false;
};

}  // namespace director::protocol
