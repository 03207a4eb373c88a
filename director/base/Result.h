// Result<T>: a value or a std::error_code, for environment errors (STYLE.md, 4).
#pragma once
#include <system_error>
#include <utility>
#include <variant>

namespace base {

template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(std::error_code ec) : v_(ec) {}
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }
    std::error_code error() const { return ok() ? std::error_code{} : std::get<1>(v_); }

private:
    std::variant<T, std::error_code> v_;
};

inline std::error_code errnoCode(int e) { return {e, std::generic_category()}; }

}  // namespace base
