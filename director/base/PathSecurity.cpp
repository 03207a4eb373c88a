#include "base/PathSecurity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace base {
namespace {

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        const size_t j = path.find('/', i);
        const std::string part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
        if (!part.empty() && part != ".") {
            if (part == ".." && !out.empty()) out.pop_back();
            else if (part != "..") out.push_back(part);
        }
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
    std::string p;
    for (size_t i = 0; i < n; ++i) p += "/" + parts[i];
    return p.empty() ? "/" : p;
}

bool ownedByRootOnly(const struct stat& st) {
    if (st.st_uid != 0) return false;
    if (S_ISLNK(st.st_mode)) return true;  // a link's own mode means nothing; its owner and folder do
    const bool sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    return sticky || !(st.st_mode & (S_IWGRP | S_IWOTH));
}

// Walks `path` from the root with lstat, following links (depth-limited).
bool walk(const std::string& path, const std::string& program, std::string& why, int depth) {
    if (depth > 40) {
        why = "too many symbolic links on the way to " + program;
        return false;
    }
    const auto parts = components(path);
    bool parentSticky = false;  // the directory the current entry sits in: others may add names
    struct stat root {};
    if (::lstat("/", &root) != 0 || !ownedByRootOnly(root)) {
        why = "/ can be changed by a user other than root";
        return false;
    }
    parentSticky = (root.st_mode & S_ISVTX) && (root.st_mode & (S_IWGRP | S_IWOTH));
    for (size_t i = 1; i <= parts.size(); ++i) {
        const std::string here = join(parts, i);
        struct stat st {};
        if (::lstat(here.c_str(), &st) != 0) {
            if (errno != ENOENT) {
                why = "cannot check " + here + ": " + std::strerror(errno);
                return false;
            }
            // not there (yet): safe only if no one but root can create it
            if (parentSticky) {
                why = here + " does not exist, and anyone may create it in " + join(parts, i - 1);
                return false;
            }
            return true;
        }
        if (!ownedByRootOnly(st)) {
            why = here + (st.st_uid != 0 ? " is not owned by root" : " is writable by group or others");
            return false;
        }
        if (S_ISLNK(st.st_mode)) {
            std::vector<char> target(4096);
            const ssize_t n = ::readlink(here.c_str(), target.data(), target.size() - 1);
            if (n < 0) {
                why = "cannot read the link " + here + ": " + std::strerror(errno);
                return false;
            }
            std::string t(target.data(), static_cast<size_t>(n));
            if (t.empty() || t[0] != '/') t = join(parts, i - 1) + "/" + t;
            for (size_t k = i; k < parts.size(); ++k) t += "/" + parts[k];
            return walk(t, program, why, depth + 1);
        }
        if (i < parts.size() && !S_ISDIR(st.st_mode)) {
            why = here + " is not a directory";
            return false;
        }
        parentSticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH));
    }
    return true;
}

}  // namespace

bool safeForRoot(const std::string& program, std::string& why) {
    if (program.empty() || program[0] != '/') {
        why = program + " is not an absolute path";
        return false;
    }
    if (walk(program, program, why, 0)) return true;
    why += "; refusing to run " + program +
           " as root (script_security: make it and its folders root's and writable by root only, or run it as"
           " another user)";
    return false;
}

}  // namespace base
