// A pass over a config file's text before libconfig (1.5, Debian 12's) reads it, for what
// libconfig gets wrong silently or slowly:
//   - an integer literal past 32 bits without the L suffix: libconfig reads it with atoi, so
//     `port = 4294967376` would load as 80; here it is an error at its line;
//   - a string literal (with the literals next to it, which libconfig joins) longer than
//     kMaxString: libconfig builds strings in time quadratic in their length;
//   - @include directives, returned so the loader can check each file (a regular file, readable
//     without blocking) before libconfig opens it.
// One pass, linear in the text; it knows libconfig's comments and string escapes and nothing else
// of the grammar (libconfig reports syntax errors itself).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace conf {

inline constexpr size_t kMaxString = 64 * 1024;

struct PrescanResult {
    struct Issue {
        int line;
        std::string message;
    };
    std::vector<Issue> issues;
    struct Include {
        int line;
        std::string path;  // as written
    };
    std::vector<Include> includes;
};

PrescanResult prescan(std::string_view text);

}  // namespace conf
