#include "conf/Reader.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace conf {
namespace {
std::set<std::string>& registry() {
    static std::set<std::string> r;
    return r;
}
std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}
}  // namespace

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

size_t editDistance(const std::string& a, const std::string& b) {
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

std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    size_t bestD = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        const size_t d = editDistance(word, c);
        if (d < bestD) {
            bestD = d;
            best = c;
        }
    }
    return best;
}

Reader::Reader(Diagnostics& diags, const libconfig::Setting& group, std::string path, std::string section,
               std::string fallbackFile)
    : diags_(diags), group_(group), path_(std::move(path)), section_(std::move(section)),
      fallbackFile_(std::move(fallbackFile)) {}

std::string Reader::childPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

Location Reader::location() const { return locationOf(group_, fallbackFile_); }

const std::set<std::string>& Reader::knownSettings() { return registry(); }

const libconfig::Setting* Reader::find(const char* key) {
    known_.emplace_back(key);
    {
        std::lock_guard lock(registryMutex());
        registry().insert(section_.empty() ? std::string(key) : section_ + "." + key);
    }
    if (!group_.isGroup() || !group_.exists(key)) return nullptr;
    return &group_[key];
}

void Reader::require(const char* key) {
    if (!find(key)) error("missing required setting '" + std::string(key) + "'");
}

void Reader::error(const libconfig::Setting& s, const std::string& path, const std::string& message) {
    const Location loc = locationOf(s, fallbackFile_);
    diags_.push_back(Diagnostic{loc.file, loc.line, path, message});
}

void Reader::error(const std::string& message) { error(group_, path_, message); }

bool Reader::get(const char* key, bool& out) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    if (s->getType() != libconfig::Setting::TypeBoolean) {
        error(*s, childPath(key), "expected a boolean (true or false), got " + typeName(*s));
        return false;
    }
    out = static_cast<bool>(*s);
    return true;
}

bool Reader::number(const char* key, long long& out, long long lo, long long hi) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    long long v = 0;
    if (s->getType() == libconfig::Setting::TypeInt) v = static_cast<int>(*s);
    else if (s->getType() == libconfig::Setting::TypeInt64) v = static_cast<long long>(*s);
    else {
        error(*s, childPath(key), "expected an integer, got " + typeName(*s));
        return false;
    }
    if (v < lo || v > hi) {
        error(*s, childPath(key),
              std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
        return false;
    }
    out = v;
    return true;
}

bool Reader::get(const char* key, int& out, long long lo, long long hi) {
    long long v = 0;
    if (!number(key, v, lo, hi)) return false;
    out = static_cast<int>(v);
    return true;
}

bool Reader::get(const char* key, std::optional<int>& out, long long lo, long long hi) {
    long long v = 0;
    if (!number(key, v, lo, hi)) return false;
    out = static_cast<int>(v);
    return true;
}

bool Reader::get(const char* key, std::uint32_t& out, long long lo, long long hi) {
    long long v = 0;
    if (!number(key, v, lo, hi)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

static std::string fmtSeconds(double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

bool Reader::seconds(const char* key, double& out, double lo, double hi) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    double v = 0;
    switch (s->getType()) {
    case libconfig::Setting::TypeInt: v = static_cast<int>(*s); break;
    case libconfig::Setting::TypeInt64: v = static_cast<double>(static_cast<long long>(*s)); break;
    case libconfig::Setting::TypeFloat: v = static_cast<double>(*s); break;
    default: error(*s, childPath(key), "expected a duration in seconds, got " + typeName(*s)); return false;
    }
    if (!std::isfinite(v) || v < lo || v > hi) {
        error(*s, childPath(key),
              fmtSeconds(v) + " s is out of range (" + fmtSeconds(lo) + ".." + fmtSeconds(hi) + " s)");
        return false;
    }
    out = v;
    return true;
}

bool Reader::seconds(const char* key, std::optional<double>& out, double lo, double hi) {
    double v = 0;
    if (!seconds(key, v, lo, hi)) return false;
    out = v;
    return true;
}

bool Reader::get(const char* key, std::string& out, bool allowEmpty) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    if (s->getType() != libconfig::Setting::TypeString) {
        error(*s, childPath(key), "expected a string, got " + typeName(*s));
        return false;
    }
    std::string v = static_cast<const char*>(*s);
    if (!allowEmpty && v.empty()) {
        error(*s, childPath(key), "must not be empty");
        return false;
    }
    out = std::move(v);
    return true;
}

bool Reader::get(const char* key, base::IpAddress& out) {
    std::optional<base::IpAddress> a;
    if (!get(key, a)) return false;
    out = *a;
    return true;
}

bool Reader::get(const char* key, std::optional<base::IpAddress>& out) {
    const libconfig::Setting* s = find(key);
    std::string text;
    if (!s || !get(key, text)) return false;
    auto a = base::IpAddress::parse(text);
    if (!a) {
        error(*s, childPath(key), "'" + text + "' is not an IPv4 or IPv6 address");
        return false;
    }
    out = *a;
    return true;
}

// keepalived's word splitting: whitespace separates, double quotes group.
static std::optional<std::vector<std::string>> splitWords(const std::string& text) {
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

bool Reader::get(const char* key, Command& out) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    Command c;
    if (s->getType() == libconfig::Setting::TypeString) {
        auto words = splitWords(static_cast<const char*>(*s));
        if (!words) {
            error(*s, childPath(key), "unbalanced double quote");
            return false;
        }
        c.argv = std::move(*words);
    } else if (s->getType() == libconfig::Setting::TypeArray || s->getType() == libconfig::Setting::TypeList) {
        for (int i = 0; i < s->getLength(); ++i) {
            const libconfig::Setting& e = (*s)[i];
            if (e.getType() != libconfig::Setting::TypeString) {
                error(e, childPath(key) + "[" + std::to_string(i) + "]", "expected a string, got " + typeName(e));
                return false;
            }
            c.argv.emplace_back(static_cast<const char*>(e));
        }
    } else {
        error(*s, childPath(key), "expected a command (a string or an array of strings), got " + typeName(*s));
        return false;
    }
    if (c.argv.empty()) {
        error(*s, childPath(key), "empty command");
        return false;
    }
    if (c.argv[0].empty() || c.argv[0][0] != '/') {
        error(*s, childPath(key), "the program '" + c.argv[0] + "' must be an absolute path");
        return false;
    }
    out = std::move(c);
    return true;
}

bool Reader::get(const char* key, std::vector<std::string>& out) {
    const libconfig::Setting* s = find(key);
    if (!s) return false;
    if (s->getType() != libconfig::Setting::TypeArray && s->getType() != libconfig::Setting::TypeList) {
        error(*s, childPath(key), "expected an array of strings, got " + typeName(*s));
        return false;
    }
    std::vector<std::string> v;
    for (int i = 0; i < s->getLength(); ++i) {
        const libconfig::Setting& e = (*s)[i];
        if (e.getType() != libconfig::Setting::TypeString) {
            error(e, childPath(key) + "[" + std::to_string(i) + "]", "expected a string, got " + typeName(e));
            return false;
        }
        v.emplace_back(static_cast<const char*>(e));
    }
    out = std::move(v);
    return true;
}

void Reader::finish() {
    if (!group_.isGroup() || finished_) return;
    finished_ = true;
    for (int i = 0; i < group_.getLength(); ++i) {
        const libconfig::Setting& c = group_[i];
        const std::string name = c.getName() ? c.getName() : "";
        if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
        if (hint_) {
            if (auto h = hint_(name)) {
                error(c, childPath(name), *h);
                continue;
            }
        }
        std::string msg = "unknown setting '" + name + "'";
        if (auto near = closest(name, known_)) msg += " (did you mean '" + *near + "'?)";
        error(c, childPath(name), msg);
    }
}

}  // namespace conf
