// A small streaming JSON writer for state dumps and status (no parsing, no DOM).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace base {

class JsonWriter {
public:
    JsonWriter& beginObject();
    JsonWriter& endObject();
    JsonWriter& beginArray();
    JsonWriter& endArray();
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view v);
    JsonWriter& value(const char* v) { return value(std::string_view(v)); }
    JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
    JsonWriter& value(bool v);
    JsonWriter& value(std::int64_t v);
    JsonWriter& value(std::uint64_t v);
    JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
    JsonWriter& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
    JsonWriter& value(double v);
    JsonWriter& null();
    // A value that is already JSON (written by another JsonWriter), inserted as it is.
    JsonWriter& raw(std::string_view json);
    template <class T>
    JsonWriter& field(std::string_view k, const T& v) {
        return key(k).value(v);
    }
    const std::string& str() const { return out_; }

private:
    void separator();
    std::string out_;
    std::vector<bool> first_;  // per open container: no element written yet
    bool afterKey_ = false;
};

std::string jsonEscape(std::string_view s);

}  // namespace base
