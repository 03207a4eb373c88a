#include "conf/Prescan.h"

#include <cctype>
#include <cstdint>

namespace conf {
namespace {

bool nameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '*'; }

}  // namespace

PrescanResult prescan(std::string_view t) {
    PrescanResult out;
    int line = 1;
    size_t i = 0;
    const size_t n = t.size();
    size_t run = 0;   // length of the string being joined from adjacent literals
    int runLine = 0;  // where it started
    bool runReported = false;
    bool inRun = false;     // the last token was a string literal (only blanks and comments since)
    bool lineStart = true;  // nothing but blanks on this line so far
    auto endRun = [&] {
        inRun = false;
        run = 0;
        runReported = false;
    };
    while (i < n) {
        const char c = t[i];
        if (c == '\n') {
            ++line;
            ++i;
            lineStart = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ++i;
            continue;
        }
        // comments: # and // to the end of the line, /* ... */
        if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
            while (i < n && t[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < n && t[i + 1] == '*') {
            i += 2;
            while (i < n && !(t[i] == '*' && i + 1 < n && t[i + 1] == '/')) {
                if (t[i] == '\n') ++line;
                ++i;
            }
            i = i < n ? i + 2 : n;
            continue;
        }
        if (c == '@' && lineStart && t.substr(i, 8) == "@include") {
            size_t j = i + 8;
            while (j < n && (t[j] == ' ' || t[j] == '\t')) ++j;
            if (j < n && t[j] == '"') {
                size_t k = j + 1;
                std::string path;
                while (k < n && t[k] != '"' && t[k] != '\n') path += t[k++];
                out.includes.push_back({line, path});
                i = k < n && t[k] == '"' ? k + 1 : k;
                lineStart = false;
                endRun();
                continue;
            }
        }
        lineStart = false;
        if (c == '"') {
            if (!inRun) {
                run = 0;
                runLine = line;
                runReported = false;
            }
            ++i;
            while (i < n && t[i] != '"') {
                if (t[i] == '\\' && i + 1 < n) ++i;
                if (t[i] == '\n') ++line;
                ++run;
                ++i;
            }
            ++i;  // the closing quote (an unterminated string is libconfig's syntax error)
            inRun = true;
            if (run > kMaxString && !runReported) {
                out.issues.push_back({runLine, "a string longer than " + std::to_string(kMaxString) +
                                                   " bytes; no setting takes one that long"});
                runReported = true;
            }
            continue;
        }
        endRun();
        const bool signedNumber =
            (c == '-' || c == '+') && i + 1 < n && std::isdigit(static_cast<unsigned char>(t[i + 1]));
        if ((std::isdigit(static_cast<unsigned char>(c)) || signedNumber) && (i == 0 || !nameChar(t[i - 1]))) {
            const size_t start = i;
            const bool negative = c == '-';
            if (signedNumber) ++i;
            bool hex = false;
            if (t[i] == '0' && i + 1 < n && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
                hex = true;
                i += 2;
            }
            const size_t digits = i;
            while (i < n && (hex ? std::isxdigit(static_cast<unsigned char>(t[i]))
                                 : std::isdigit(static_cast<unsigned char>(t[i]))))
                ++i;
            const bool real = !hex && i < n && (t[i] == '.' || t[i] == 'e' || t[i] == 'E');
            const bool wide = i < n && t[i] == 'L';
            if (real) {  // a float: libconfig reads those itself
                while (i < n && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == 'e' ||
                                 t[i] == 'E' || t[i] == '-' || t[i] == '+'))
                    ++i;
                continue;
            }
            if (wide) {
                ++i;
                continue;
            }
            // does it fit the 32 bits libconfig keeps?
            std::uint64_t v = 0;
            bool overflow = false;
            for (size_t k = digits; k < i; ++k) {
                const int d =
                    std::isdigit(static_cast<unsigned char>(t[k])) ? t[k] - '0' : std::tolower(t[k]) - 'a' + 10;
                v = v * (hex ? 16 : 10) + static_cast<std::uint64_t>(d);
                if (v > 0xffffffffull) overflow = true;
            }
            const std::uint64_t limit = negative ? 0x80000000ull : 0x7fffffffull;
            if (overflow || v > limit) {
                const std::string lit(t.substr(start, i - start));
                out.issues.push_back({line, "the integer " + lit +
                                                " does not fit in 32 bits, and libconfig would read it as another"
                                                " number; if the setting takes it, write it as " +
                                                lit + "L"});
            }
            continue;
        }
        // anything else: a name, punctuation; names are skipped whole (so their digits are not numbers)
        if (nameChar(c)) {
            while (i < n && nameChar(t[i])) ++i;
            continue;
        }
        ++i;
    }
    return out;
}

}  // namespace conf
