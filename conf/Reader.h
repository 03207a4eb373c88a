// Reader: typed access to one libconfig group with diagnostics. Every key a section asks for is
// recorded as known (present or not); finish() reports the group's other keys as unknown, with a
// "did you mean" when one known key is close. Internal to the loader.
#pragma once
#include <libconfig.h++>

#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

class Reader {
public:
    // `section` is the path without indexes ("virtual_servers.real_servers"), for the registry of
    // documented settings.
    Reader(Diagnostics& diags, const libconfig::Setting& group, std::string path, std::string section,
           std::string fallbackFile);

    const libconfig::Setting& setting() const { return group_; }
    const std::string& path() const { return path_; }
    std::string childPath(const std::string& key) const;
    Location location() const;

    // Marks `key` known; returns the child when present.
    const libconfig::Setting* find(const char* key);
    bool has(const char* key) { return find(key) != nullptr; }
    void require(const char* key);

    bool get(const char* key, bool& out);
    bool get(const char* key, int& out, long long lo, long long hi);
    bool get(const char* key, std::optional<int>& out, long long lo, long long hi);
    bool get(const char* key, std::uint32_t& out, long long lo, long long hi);
    bool seconds(const char* key, double& out, double lo, double hi);
    bool seconds(const char* key, std::optional<double>& out, double lo, double hi);
    bool get(const char* key, std::string& out, bool allowEmpty = true);
    bool get(const char* key, base::IpAddress& out);
    bool get(const char* key, std::optional<base::IpAddress>& out);
    bool get(const char* key, Command& out);
    bool get(const char* key, std::vector<std::string>& out);

    template <class E>
    bool choice(const char* key, E& out, std::initializer_list<std::pair<const char*, E>> choices) {
        std::string s;
        const libconfig::Setting* st = find(key);
        if (!st || !get(key, s)) return false;
        for (const auto& [n, v] : choices)
            if (s == n) {
                out = v;
                return true;
            }
        std::string list;
        for (const auto& [n, v] : choices) list += std::string(list.empty() ? "" : ", ") + n;
        error(*st, childPath(key), "'" + s + "' is not one of: " + list);
        return false;
    }

    // Reports keys nobody asked for. `hint` may explain a key better than "unknown setting".
    using Hint = std::function<std::optional<std::string>(const std::string&)>;
    void finish();
    void setHint(Hint hint) { hint_ = std::move(hint); }

    void error(const libconfig::Setting& s, const std::string& path, const std::string& message);
    void error(const std::string& message);  // at this group
    Diagnostics& diags() { return diags_; }
    const std::string& fallbackFile() const { return fallbackFile_; }

    // Every "section.key" any Reader has asked for, for the documentation test.
    static const std::set<std::string>& knownSettings();

private:
    bool number(const char* key, long long& out, long long lo, long long hi);
    Diagnostics& diags_;
    const libconfig::Setting& group_;
    std::string path_;
    std::string section_;
    std::string fallbackFile_;
    std::vector<std::string> known_;
    Hint hint_;
    bool finished_ = false;
};

std::string typeName(const libconfig::Setting& s);
Location locationOf(const libconfig::Setting& s, const std::string& fallbackFile);
// Levenshtein distance, for "did you mean".
size_t editDistance(const std::string& a, const std::string& b);
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace conf
