#include "base/PathSecurity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace base {
namespace {

// The path's names as written, ".." included: a ".." is taken only once the names before it are
// resolved (a link's target replaces it first), so "/safe/link/../x" is checked where the link
// leads, not as "/safe/x".
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        const size_t j = path.find('/', i);
        const std::string part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
        if (!part.empty() && part != ".") out.push_back(part);
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
    std::vector<std::string> done;  // resolved so far: real directories, every one checked
    for (size_t i = 0; i < parts.size(); ++i) {
        if (parts[i] == "..") {
            // the parent of a checked directory: checked on the way here (/.. is /)
            if (!done.empty()) done.pop_back();
            parentSticky = false;
            if (!done.empty()) {
                struct stat up {};
                const std::string dir = join(done, done.size());
                if (::lstat(dir.c_str(), &up) == 0)
                    parentSticky = (up.st_mode & S_ISVTX) && (up.st_mode & (S_IWGRP | S_IWOTH));
            }
            continue;
        }
        done.push_back(parts[i]);
        const std::string here = join(done, done.size());
        struct stat st {};
        if (::lstat(here.c_str(), &st) != 0) {
            if (errno != ENOENT) {
                why = "cannot check " + here + ": " + std::strerror(errno);
                return false;
            }
            // not there (yet): safe only if no one but root can create it
            if (parentSticky) {
                why = here + " does not exist, and anyone may create it in " + join(done, done.size() - 1);
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
            if (t.empty() || t[0] != '/') t = join(done, done.size() - 1) + "/" + t;
            for (size_t k = i + 1; k < parts.size(); ++k) t += "/" + parts[k];
            return walk(t, program, why, depth + 1);
        }
        if (i + 1 < parts.size() && !S_ISDIR(st.st_mode)) {
            why = here + " is not a directory";
            return false;
        }
        parentSticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH));
    }
    return true;
}

// Interpreters whose first operand is a program of its own: "/bin/sh /home/u/x.sh" runs x.sh.
bool isInterpreter(const std::string& program) {
    const std::string name = program.substr(program.rfind('/') + 1);
    static const char* const shells[] = {"sh",   "bash", "dash", "ksh",  "mksh",   "zsh",   "ash",
                                         "perl", "ruby", "php",  "lua",  "node", "nodejs", "tclsh", "wish"};
    for (const char* s : shells)
        if (name == s) return true;
    auto versioned = [&](const std::string& stem) {  // python3, python3.11, perl5.36, lua5.4
        if (name.compare(0, stem.size(), stem) != 0) return false;
        return name.find_first_not_of("0123456789.", stem.size()) == std::string::npos;
    };
    return versioned("python") || versioned("perl") || versioned("lua") || versioned("ruby") || versioned("php") ||
           versioned("tclsh");
}

}  // namespace

bool commandSafeForRoot(const std::vector<std::string>& argv, std::string& why) {
    if (argv.empty()) {
        why = "an empty command";
        return false;
    }
    if (!safeForRoot(argv[0], why)) return false;
    if (!isInterpreter(argv[0])) return true;
    // the interpreter's first operand: the script it runs (options before it are skipped; `-c`,
    // `-e` and the like take code, not a file, and the code is the config's own)
    for (size_t i = 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-c" || a == "-e" || a == "-E" || a == "-r" || a == "--eval" || a == "-m") return true;
        if (a == "--") {
            if (i + 1 < argv.size()) return scriptSafe(argv[i + 1], argv[0], why);
            return true;
        }
        if (!a.empty() && a[0] == '-') continue;
        return scriptSafe(a, argv[0], why);
    }
    return true;
}

bool scriptSafe(const std::string& script, const std::string& interpreter, std::string& why) {
    if (script.empty() || script[0] != '/') {
        why = interpreter + " runs " + script +
              ", which is not an absolute path; refusing to run it as root (script_security: give the script's"
              " absolute path, in folders only root can write)";
        return false;
    }
    if (walk(script, script, why, 0)) return true;
    why += "; refusing to run " + script + " (through " + interpreter +
           ") as root (script_security: make it and its folders root's and writable by root only, or run it as"
           " another user)";
    return false;
}

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
