#include "conf/Reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace conf {

std::string Diagnostic::str() const {
    return file + ":" + std::to_string(line) + ": " + (path.empty() ? "(top)" : path) + ": " + message;
}

std::string typeName(const libconfig::Setting& s) {
    switch (s.getType()) {
    case libconfig::Setting::TypeInt:
    case libconfig::Setting::TypeInt64: return "an integer";
    case libconfig::Setting::TypeFloat: return "a number";
    case libconfig::Setting::TypeString: return "a string";
    case libconfig::Setting::TypeBoolean: return "a boolean";
    case libconfig::Setting::TypeGroup: return "a group";
    case libconfig::Setting::TypeArray: return "an array";
    case libconfig::Setting::TypeList: return "a list";
    default: return "nothing";
    }
}

Location locationOf(const libconfig::Setting& s, const std::string& fallbackFile) {
    const libconfig::Setting* p = &s;
    // Scalars inside arrays may carry no line; use the nearest enclosing setting's.
    while (p->getSourceLine() == 0 && !p->isRoot()) p = &p->getParent();
    const char* f = p->getSourceFile();
    return Location{f && *f ? f : fallbackFile, static_cast<int>(p->getSourceLine())};
}

size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::optional<std::string> best;
    size_t bestD = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        const size_t d = editDistance(word, c);
        if (d < bestD) {
            bestD = d;
            best = std::string(c);
        }
    }
    return best;
}

std::optional<std::vector<std::string>> splitWords(std::string_view text) {
    std::vector<std::string> words;
    std::string cur;
    bool inQuotes = false, have = false;
    for (char c : text) {
        if (c == '"') {
            inQuotes = !inQuotes;
            have = true;
        } else if (!inQuotes && (c == ' ' || c == '\t')) {
            if (have) words.push_back(cur);
            cur.clear();
            have = false;
        } else {
            cur += c;
            have = true;
        }
    }
    if (inQuotes) return std::nullopt;
    if (have) words.push_back(cur);
    return words;
}

std::string Reader::path() const {
    if (!parent_) return "";
    std::string p = parent_->childPath(key_);
    if (index_ >= 0) p += "[" + std::to_string(index_) + "]";
    return p;
}

std::string Reader::childPath(std::string_view key) const {
    std::string p = path();
    return p.empty() ? std::string(key) : p + "." + std::string(key);
}

Location Reader::location() const { return locationOf(group_, fallbackFile_); }

const libconfig::Setting* Reader::child(std::string_view key) const {
    for (const auto& [k, s] : children_)
        if (k == key) return s;
    return nullptr;
}

void Reader::error(const libconfig::Setting& s, const std::string& path, const std::string& message) {
    const Location loc = locationOf(s, fallbackFile_);
    diags_.push_back(Diagnostic{loc.file, loc.line, path, message});
}

void Reader::error(const std::string& message) { error(group_, path(), message); }

void Reader::errorAt(std::string_view key, const std::string& message) {
    if (const auto* c = child(key)) error(*c, childPath(key), message);
    else error(message);
}

std::optional<bool> Reader::boolean(const libconfig::Setting& s, std::string_view key) {
    if (s.getType() != libconfig::Setting::TypeBoolean) {
        error(s, childPath(key), "expected a boolean (true or false), got " + typeName(s));
        return std::nullopt;
    }
    return static_cast<bool>(s);
}

std::optional<long long> Reader::integer(const libconfig::Setting& s, std::string_view key, long long lo,
                                         long long hi) {
    long long v = 0;
    if (s.getType() == libconfig::Setting::TypeInt) v = static_cast<int>(s);
    else if (s.getType() == libconfig::Setting::TypeInt64) v = static_cast<long long>(s);
    else {
        error(s, childPath(key), "expected an integer, got " + typeName(s));
        return std::nullopt;
    }
    if (v < lo || v > hi) {
        error(s, childPath(key),
              std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
        return std::nullopt;
    }
    return v;
}

namespace {
std::string fmtSeconds(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
}  // namespace

std::optional<Duration> Reader::seconds(const libconfig::Setting& s, std::string_view key, double lo, double hi) {
    double v = 0;
    switch (s.getType()) {
    case libconfig::Setting::TypeInt: v = static_cast<int>(s); break;
    case libconfig::Setting::TypeInt64: v = static_cast<double>(static_cast<long long>(s)); break;
    case libconfig::Setting::TypeFloat: v = static_cast<double>(s); break;
    default: error(s, childPath(key), "expected a duration in seconds, got " + typeName(s)); return std::nullopt;
    }
    if (!std::isfinite(v) || v < lo || v > hi) {
        error(s, childPath(key),
              fmtSeconds(v) + " s is out of range (" + fmtSeconds(lo) + ".." + fmtSeconds(hi) + " s)");
        return std::nullopt;
    }
    // kept to the microsecond, as the language promises
    return std::chrono::duration_cast<Duration>(std::chrono::microseconds(std::llround(v * 1e6)));
}

std::optional<std::string> Reader::string(const libconfig::Setting& s, std::string_view key, bool allowEmpty) {
    if (s.getType() != libconfig::Setting::TypeString) {
        error(s, childPath(key), "expected a string, got " + typeName(s));
        return std::nullopt;
    }
    std::string v = static_cast<const char*>(s);
    if (!allowEmpty && v.empty()) {
        error(s, childPath(key), "must not be empty");
        return std::nullopt;
    }
    return v;
}

std::optional<base::IpAddress> Reader::address(const libconfig::Setting& s, std::string_view key) {
    auto text = string(s, key);
    if (!text) return std::nullopt;
    auto a = base::IpAddress::parse(*text);
    if (!a) error(s, childPath(key), "'" + *text + "' is not an IPv4 or IPv6 address");
    return a;
}

std::optional<Command> Reader::command(const libconfig::Setting& s, std::string_view key) {
    Command c;
    if (s.getType() == libconfig::Setting::TypeString) {
        auto words = splitWords(static_cast<const char*>(s));
        if (!words) {
            error(s, childPath(key), "unbalanced double quote");
            return std::nullopt;
        }
        c.argv = std::move(*words);
    } else if (s.getType() == libconfig::Setting::TypeArray || s.getType() == libconfig::Setting::TypeList) {
        for (int i = 0; i < s.getLength(); ++i) {
            const libconfig::Setting& e = s[i];
            if (e.getType() != libconfig::Setting::TypeString) {
                error(e, childPath(key) + "[" + std::to_string(i) + "]", "expected a string, got " + typeName(e));
                return std::nullopt;
            }
            c.argv.emplace_back(static_cast<const char*>(e));
        }
    } else {
        error(s, childPath(key), "expected a command (a string or an array of strings), got " + typeName(s));
        return std::nullopt;
    }
    if (c.argv.empty()) {
        error(s, childPath(key), "empty command");
        return std::nullopt;
    }
    if (c.argv[0].empty() || c.argv[0][0] != '/') {
        error(s, childPath(key), "the program '" + c.argv[0] + "' must be an absolute path");
        return std::nullopt;
    }
    return c;
}

std::optional<std::vector<std::string>> Reader::strings(const libconfig::Setting& s, std::string_view key) {
    if (s.getType() != libconfig::Setting::TypeArray && s.getType() != libconfig::Setting::TypeList) {
        error(s, childPath(key), "expected an array of strings, got " + typeName(s));
        return std::nullopt;
    }
    std::vector<std::string> v;
    for (int i = 0; i < s.getLength(); ++i) {
        const libconfig::Setting& e = s[i];
        if (e.getType() != libconfig::Setting::TypeString) {
            error(e, childPath(key) + "[" + std::to_string(i) + "]", "expected a string, got " + typeName(e));
            return std::nullopt;
        }
        v.emplace_back(static_cast<const char*>(e));
    }
    return v;
}

}  // namespace conf
