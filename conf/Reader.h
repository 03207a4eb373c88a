// Reader: one libconfig group being read, with its diagnostics. It turns one setting at a time
// into a typed value (reporting `file:line: path: message` when it cannot) and knows which
// children the section's schema matched, for cross-checks between settings. Internal to the
// loader (conf/Schema.h drives it).
#pragma once
#include <libconfig.h++>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

class Reader {
public:
    // The top level.
    Reader(Diagnostics& diags, const libconfig::Setting& group, std::string fallbackFile)
        : diags_(diags), group_(group), fallbackFile_(std::move(fallbackFile)) {}
    // A group under `parent`: its child `key`, or element `index` of that child (a list of groups).
    // The path ("virtual_servers[3].real_servers[0]") is spelled out only for a diagnostic.
    Reader(const Reader& parent, const libconfig::Setting& group, std::string_view key, int index = -1)
        : diags_(parent.diags_), group_(group), fallbackFile_(parent.fallbackFile_), parent_(&parent), key_(key),
          index_(index) {}

    const libconfig::Setting& group() const { return group_; }
    std::string path() const;
    std::string childPath(std::string_view key) const;
    Location location() const;
    Diagnostics& diags() { return diags_; }
    const std::string& fallbackFile() const { return fallbackFile_; }

    // The child the schema matched for `key` (null when absent), set while the section is read.
    const libconfig::Setting* child(std::string_view key) const;
    bool has(std::string_view key) const { return child(key) != nullptr; }
    void setChildren(std::vector<std::pair<std::string_view, const libconfig::Setting*>> c) {
        children_ = std::move(c);
    }

    void error(const libconfig::Setting& s, const std::string& path, const std::string& message);
    void error(const std::string& message);  // at this group
    // At the child `key` when present, else at the group.
    void errorAt(std::string_view key, const std::string& message);

    // One setting as a typed value; nullopt after reporting why not. `key` names it in the path.
    std::optional<bool> boolean(const libconfig::Setting& s, std::string_view key);
    std::optional<long long> integer(const libconfig::Setting& s, std::string_view key, long long lo, long long hi);
    std::optional<Duration> seconds(const libconfig::Setting& s, std::string_view key, double lo, double hi);
    std::optional<std::string> string(const libconfig::Setting& s, std::string_view key, bool allowEmpty = true);
    std::optional<base::IpAddress> address(const libconfig::Setting& s, std::string_view key);
    std::optional<Command> command(const libconfig::Setting& s, std::string_view key);
    std::optional<std::vector<std::string>> strings(const libconfig::Setting& s, std::string_view key);
    template <class E>
    std::optional<E> choice(const libconfig::Setting& s, std::string_view key,
                            const std::vector<std::pair<std::string_view, E>>& choices) {
        auto text = string(s, key);
        if (!text) return std::nullopt;
        for (const auto& [n, v] : choices)
            if (*text == n) return v;
        std::string list;
        for (const auto& [n, v] : choices) list += (list.empty() ? "" : ", ") + std::string(n);
        error(s, childPath(key), "'" + *text + "' is not one of: " + list);
        return std::nullopt;
    }

private:
    Diagnostics& diags_;
    const libconfig::Setting& group_;
    std::string fallbackFile_;
    const Reader* parent_ = nullptr;
    std::string_view key_;
    int index_ = -1;
    std::vector<std::pair<std::string_view, const libconfig::Setting*>> children_;
};

std::string typeName(const libconfig::Setting& s);
Location locationOf(const libconfig::Setting& s, const std::string& fallbackFile);
// Levenshtein distance, for "did you mean".
size_t editDistance(std::string_view a, std::string_view b);
std::optional<std::string> closest(std::string_view word, const std::vector<std::string_view>& candidates);
// keepalived's word splitting: whitespace separates, double quotes group; nullopt when a quote is open.
std::optional<std::vector<std::string>> splitWords(std::string_view text);

}  // namespace conf
