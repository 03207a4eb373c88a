// A config problem: `file:line: path: message`. Paths name settings from the root, with list
// indexes: `virtual_servers[0].real_servers[1].weight`.
#pragma once
#include <string>
#include <vector>

namespace conf {

struct Diagnostic {
    std::string file;
    int line = 0;
    std::string path;
    std::string message;
    std::string str() const;
    bool operator==(const Diagnostic&) const = default;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace conf
