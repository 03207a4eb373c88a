// Regex: a PCRE2 pattern, as keepalived's HTTP_GET compiles it (regex_options by keepalived's names),
// matched by start offset: a match counts when it starts within [minOffset, maxOffset]. Used by the
// http/https checks and, to refuse a bad pattern with its position, by the config reader.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace base {

class Regex {
public:
    // Null with `why` (the compiler's message and offset, or the unknown option) when it cannot be used.
    static std::shared_ptr<const Regex> compile(const std::string& pattern, const std::vector<std::string>& options,
                                                std::string& why);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    // Whether a match starts at or after minOffset and, when given, at or before maxOffset. A
    // resource limit hit by the matcher is no match.
    bool matches(std::string_view subject, std::size_t minOffset = 0,
                 std::optional<std::size_t> maxOffset = std::nullopt) const;
    // keepalived's regex_options names, in its order.
    static const std::vector<std::string>& optionNames();

private:
    Regex() = default;
    void* code_ = nullptr;  // pcre2_code_8, opaque to keep pcre2.h out of the headers
};

}  // namespace base
