// Wire: the binary encoding of values between directord's own processes (the supervisor, its
// workers and the control clients; docs/ARCHITECTURE.md, "Protocol"). One Writer and one Reader,
// and generic put()/get() for scalars, enums, strings, addresses, durations, optionals,
// vectors, maps and any struct that lists its members with a `fields(x, f)` function found by ADL:
//
//     template <class T, class F> requires base::wire::Is<T, Dest> void fields(T& x, F&& f) {
//         f(x.address, x.port, x.weight);
//     }
//
// Integers are in host order (both ends are this binary on this machine). The Reader never reads
// past its input: a short or malformed message makes it fail (ok() false) and every later read
// return zero values, so a decoder checks ok() once at the end. Counts are bounded by the bytes
// left, so a hostile length cannot make it allocate more than the message holds.
#pragma once
#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/IpAddress.h"

namespace base::wire {

template <class T, class U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

class Writer {
public:
    void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
    template <class T>
    requires std::is_arithmetic_v<T>
    void scalar(T v) { raw(&v, sizeof v); }
    void count(size_t n) { scalar(static_cast<std::uint32_t>(n)); }
    void str(std::string_view s) {
        count(s.size());
        raw(s.data(), s.size());
    }
    std::string& buffer() { return buf_; }
    std::string take() { return std::move(buf_); }

private:
    std::string buf_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_; }
    // Everything read, nothing left over.
    bool done() const { return ok_ && pos_ == in_.size(); }
    size_t left() const { return in_.size() - pos_; }
    void fail() { ok_ = false; }

    bool raw(void* p, size_t n) {
        if (!ok_ || n > left()) {
            ok_ = false;
            std::memset(p, 0, n);
            return false;
        }
        std::memcpy(p, in_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    template <class T>
    requires std::is_arithmetic_v<T> T scalar() {
        T v{};
        raw(&v, sizeof v);
        return v;
    }
    // A count of elements that each take at least one byte: more than the bytes left is malformed.
    size_t count() {
        const auto n = scalar<std::uint32_t>();
        if (n > left()) {
            ok_ = false;
            return 0;
        }
        return n;
    }
    std::string str() {
        const size_t n = count();
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }

private:
    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsMap : std::false_type {};
template <class K, class V, class C, class A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <class T>
struct IsPair : std::false_type {};
template <class A, class B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <class T>
struct IsArray : std::false_type {};
template <class T, size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
template <class T>
struct IsDuration : std::false_type {};
template <class R, class P>
struct IsDuration<std::chrono::duration<R, P>> : std::true_type {};

template <class T>
concept HasFields = requires(T& t) {
    fields(t, [](auto&...) {});
};

template <class T>
void put(Writer& w, const T& v);
template <class T>
void get(Reader& r, T& v);

template <class T>
void put(Writer& w, const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        w.scalar<std::uint8_t>(v ? 1 : 0);
    } else if constexpr (std::is_arithmetic_v<T>) {
        w.scalar(v);
    } else if constexpr (std::is_enum_v<T>) {
        w.scalar(static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_same_v<T, std::string>) {
        w.str(v);
    } else if constexpr (std::is_same_v<T, IpAddress>) {
        w.scalar(static_cast<std::uint8_t>(v.family()));
        w.raw(v.bytes().data(), 16);
    } else if constexpr (std::is_same_v<T, IpPrefix>) {
        put(w, v.address);
        w.scalar(static_cast<std::int32_t>(v.prefix));
    } else if constexpr (std::is_same_v<T, SocketAddress>) {
        put(w, v.address);
        w.scalar(v.port);
    } else if constexpr (IsDuration<T>::value) {
        w.scalar(static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(v).count()));
    } else if constexpr (IsOptional<T>::value) {
        put(w, v.has_value());
        if (v) put(w, *v);
    } else if constexpr (IsVector<T>::value) {
        w.count(v.size());
        for (const auto& e : v) put(w, e);
    } else if constexpr (IsArray<T>::value) {
        for (const auto& e : v) put(w, e);
    } else if constexpr (IsMap<T>::value) {
        w.count(v.size());
        for (const auto& [k, e] : v) {
            put(w, k);
            put(w, e);
        }
    } else if constexpr (IsPair<T>::value) {
        put(w, v.first);
        put(w, v.second);
    } else {
        static_assert(HasFields<const T>, "no wire encoding: give the type a fields() function");
        fields(v, [&](const auto&... m) { (put(w, m), ...); });
    }
}

template <class T>
void get(Reader& r, T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        v = r.scalar<std::uint8_t>() != 0;
    } else if constexpr (std::is_arithmetic_v<T>) {
        v = r.scalar<T>();
    } else if constexpr (std::is_enum_v<T>) {
        v = static_cast<T>(r.scalar<std::underlying_type_t<T>>());
    } else if constexpr (std::is_same_v<T, std::string>) {
        v = r.str();
    } else if constexpr (std::is_same_v<T, IpAddress>) {
        const auto f = r.scalar<std::uint8_t>();
        std::uint8_t b[16];
        r.raw(b, 16);
        if (f != static_cast<std::uint8_t>(Family::V4) && f != static_cast<std::uint8_t>(Family::V6)) {
            r.fail();
            v = IpAddress{};
            return;
        }
        v = IpAddress::fromBytes(static_cast<Family>(f), b);
    } else if constexpr (std::is_same_v<T, IpPrefix>) {
        get(r, v.address);
        v.prefix = r.scalar<std::int32_t>();
    } else if constexpr (std::is_same_v<T, SocketAddress>) {
        get(r, v.address);
        v.port = r.scalar<std::uint16_t>();
    } else if constexpr (IsDuration<T>::value) {
        v = std::chrono::duration_cast<T>(std::chrono::nanoseconds(r.scalar<std::int64_t>()));
    } else if constexpr (IsOptional<T>::value) {
        if (r.scalar<std::uint8_t>()) {
            typename T::value_type x{};
            get(r, x);
            v = std::move(x);
        } else {
            v.reset();
        }
    } else if constexpr (IsVector<T>::value) {
        const size_t n = r.count();
        v.clear();
        // the count is the sender's word: reserve no more than the bytes still held could fill
        // (each element takes one byte at least, and usually its own size)
        v.reserve(std::min(n, r.left() / sizeof(typename T::value_type) + 1));
        for (size_t i = 0; i < n && r.ok(); ++i) get(r, v.emplace_back());
    } else if constexpr (IsArray<T>::value) {
        for (auto& e : v) get(r, e);
    } else if constexpr (IsMap<T>::value) {
        const size_t n = r.count();
        v.clear();
        for (size_t i = 0; i < n && r.ok(); ++i) {
            typename T::key_type k{};
            typename T::mapped_type e{};
            get(r, k);
            get(r, e);
            v.emplace(std::move(k), std::move(e));
        }
    } else if constexpr (IsPair<T>::value) {
        get(r, v.first);
        get(r, v.second);
    } else {
        static_assert(HasFields<T>, "no wire decoding: give the type a fields() function");
        fields(v, [&](auto&... m) { (get(r, m), ...); });
    }
}

// The whole value as bytes, and back (nullopt when the bytes are not exactly one T).
template <class T>
std::string encode(const T& v) {
    Writer w;
    put(w, v);
    return w.take();
}
template <class T>
std::optional<T> decode(std::string_view bytes) {
    Reader r(bytes);
    T v{};
    get(r, v);
    if (!r.done()) return std::nullopt;
    return v;
}

}  // namespace base::wire
