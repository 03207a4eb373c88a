// base::Regex: PCRE2 as keepalived's HTTP_GET compiles it, its option names, and the match-start
// window of regex_min_offset / regex_max_offset.
#include "base/Regex.h"

#include <catch2/catch.hpp>

using base::Regex;

namespace {

std::shared_ptr<const Regex> make(const std::string& p, std::vector<std::string> o = {}) {
    std::string why;
    auto r = Regex::compile(p, o, why);
    INFO(why);
    REQUIRE(r);
    return r;
}

}  // namespace

TEST_CASE("regex: PCRE2 syntax (what POSIX extended does not have)") {
    CHECK(make(R"(\d{3} OK)")->matches("HTTP/1.1 200 OK"));
    CHECK_FALSE(make(R"(\d{3} OK)")->matches("HTTP/1.1 2x0 OK"));
    CHECK(make(R"(ok(?=!))")->matches("ok!"));    // lookahead
    CHECK_FALSE(make(R"(ok(?=!))")->matches("ok."));
    CHECK(make(R"(\bready\b)")->matches("is ready."));
    CHECK(make("a.*?b")->matches("axxb"));  // lazy quantifier
}

TEST_CASE("regex: keepalived's option names change the match as PCRE2's flags do") {
    CHECK_FALSE(make("HEALTHY")->matches("status: healthy"));
    CHECK(make("HEALTHY", {"caseless"})->matches("status: healthy"));
    CHECK_FALSE(make("^status")->matches("HTTP/1.0 200 OK\r\nstatus: ok"));
    CHECK(make("^status", {"multiline"})->matches("HTTP/1.0 200 OK\r\nstatus: ok"));
    CHECK_FALSE(make("a.b")->matches("a\nb"));
    CHECK(make("a.b", {"dotall"})->matches("a\nb"));
    CHECK(make("a b c", {"extended"})->matches("abc"));
    CHECK(Regex::optionNames().size() == 24);
    std::string why;
    CHECK_FALSE(Regex::compile("x", {"casefold"}, why));
    CHECK(why == "unknown regex option 'casefold'");
}

TEST_CASE("regex: a bad pattern says where and why") {
    std::string why;
    CHECK_FALSE(Regex::compile("ok(", {}, why));
    CHECK(why.find("at offset 3") == 0);
    CHECK(why.find("missing closing parenthesis") != std::string::npos);
}

TEST_CASE("regex: the match must start within [min offset, max offset]") {
    const auto r = make("healthy");  // "status: healthy": starts at 8
    const std::string body = "status: healthy";
    CHECK(r->matches(body, 0, std::nullopt));
    CHECK(r->matches(body, 8, 8));
    CHECK_FALSE(r->matches(body, 9));      // starts before the minimum
    CHECK_FALSE(r->matches(body, 0, 7));   // starts after the maximum
    CHECK(r->matches("healthy healthy", 1, 8));  // the second one starts at 8
    CHECK_FALSE(r->matches(body, 100));    // a minimum past the end matches nothing
    CHECK(make("(?<=: )healthy")->matches(body, 8));  // a lookbehind sees before the minimum
}
