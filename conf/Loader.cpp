#include "conf/Loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h++>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "conf/Prescan.h"
#include "conf/Reader.h"
#include "conf/Schema.h"
#include "conf/ScriptSecurity.h"
#include "conf/Validate.h"

namespace conf {
namespace {

LoadResult finishLoad(libconfig::Config& lc, const std::string& file) {
    LoadResult result;
    Config cfg;
    cfg.file = file;
    Reader r(result.diagnostics, lc.getRoot(), file);
    schema::readSection(r, schema::root(), cfg);
    validate(cfg, result.diagnostics);
    // every VMAC named (keepalived's choice where the file names none): status, dumps and reloads see it
    const auto vmacs = vmacNames(cfg);
    for (auto& v : cfg.vrrpInstances)
        if (v.vmac.enabled && v.vmac.name.empty()) v.vmac.name = vmacs.at(v.name);
    checkScripts(cfg, result.diagnostics);
    // By line within each file; files in the order their first problem was found.
    std::map<std::string, size_t> fileOrder;
    for (const auto& d : result.diagnostics) fileOrder.emplace(d.file, fileOrder.size());
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) {
                         return a.file != b.file ? fileOrder[a.file] < fileOrder[b.file] : a.line < b.line;
                     });
    if (result.diagnostics.empty()) result.config = std::move(cfg);
    return result;
}

std::string dirOf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

template <class ReadFn>
LoadResult guardedLoad(const std::string& file, const std::string& includeDir, ReadFn read) {
    LoadResult result;
    try {
        auto lc = std::make_shared<libconfig::Config>();
        lc->setIncludeDir(includeDir.c_str());
        lc->setAutoConvert(false);
        read(*lc);
        LoadResult done = finishLoad(*lc, file);
        done.parsed = std::move(lc);
        return done;
    } catch (const libconfig::ParseException& e) {
        const std::string f = e.getFile() ? e.getFile() : file;
        const std::string what = e.getError() ? e.getError() : "";
        result.diagnostics.push_back(
            Diagnostic{f, e.getLine(), "", what == "syntax error" ? what : "syntax error: " + what});
    } catch (const libconfig::FileIOException&) {
        result.diagnostics.push_back(
            Diagnostic{file, 0, "", std::string("cannot read the file: ") + std::strerror(errno)});
    } catch (const std::exception& e) {
        result.diagnostics.push_back(Diagnostic{file, 0, "", std::string("cannot load: ") + e.what()});
    }
    return result;
}

}  // namespace

namespace {

// What one load may read, includes and all: a config that includes more is refused (before this
// cap, a file that included itself four times took 12 s and 763 MB to refuse).
constexpr size_t kMaxFiles = 256;
constexpr size_t kMaxBytes = 16u << 20;

struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const FileId&) const = default;
};

// Reads a config file (or an included one) without ever blocking: only a regular file is read.
bool readConfigFile(const std::string& path, std::string& text, std::string& why, FileId* id = nullptr,
                    size_t maxBytes = kMaxBytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        why = std::string("cannot read the file: ") + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = S_ISDIR(st.st_mode) ? "is a directory, not a config file"
                                  : "is not a regular file (a FIFO, device or socket); a config is read from a file";
        ::close(fd);
        return false;
    }
    if (static_cast<unsigned long long>(st.st_size) > maxBytes) {
        why = "is " + std::to_string(st.st_size) + " bytes; a config and its includes may hold " +
              std::to_string(kMaxBytes >> 20) + " MiB at most";
        ::close(fd);
        return false;
    }
    if (id) *id = FileId{st.st_dev, st.st_ino};
    text.clear();
    text.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    ssize_t got;
    while ((got = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(got));
    const int err = errno;
    ::close(fd);
    if (got < 0) {
        why = std::string("cannot read the file: ") + std::strerror(err);
        return false;
    }
    return true;
}

// The files open on the way to the one being read (a cycle is one of them again), and what the
// whole load has read so far.
struct IncludeWalk {
    std::vector<std::pair<FileId, std::string>> chain;
    size_t files = 1;
    size_t bytes = 0;
};

// The prescan of `text` and of every file it includes (resolved against `includeDir`, as
// libconfig resolves them), each checked before libconfig opens it. Cycles (by device and inode,
// so a link or another spelling of the same file counts) are refused with the chain that closes
// them; so is a load past kMaxFiles or kMaxBytes. Stops at the first such error: what follows it
// would repeat it.
bool prescanAll(const std::string& file, const std::string& text, const std::string& includeDir, int depth,
                IncludeWalk& walk, Diagnostics& out) {
    const PrescanResult r = prescan(text);
    for (const auto& i : r.issues) out.push_back(Diagnostic{file, i.line, "", i.message});
    for (const auto& inc : r.includes) {
        const std::string path = !inc.path.empty() && inc.path[0] == '/' ? inc.path : includeDir + "/" + inc.path;
        if (depth >= 10) {
            out.push_back(Diagnostic{file, inc.line, "", "@include nested more than 10 deep"});
            return false;
        }
        if (++walk.files > kMaxFiles) {
            out.push_back(Diagnostic{file, inc.line, "",
                                     "@include \"" + inc.path + "\": more than " + std::to_string(kMaxFiles) +
                                         " files included in all; a config may include at most that many"});
            return false;
        }
        std::string sub, why;
        FileId id;
        if (!readConfigFile(path, sub, why, &id, kMaxBytes - std::min(walk.bytes, kMaxBytes))) {
            out.push_back(Diagnostic{file, inc.line, "", "@include \"" + inc.path + "\": " + why});
            if (why.find("MiB at most") != std::string::npos) return false;
            continue;
        }
        walk.bytes += sub.size();
        for (size_t k = 0; k < walk.chain.size(); ++k) {
            if (!(walk.chain[k].first == id)) continue;
            std::string cycle;
            for (size_t j = k; j < walk.chain.size(); ++j) cycle += walk.chain[j].second + " -> ";
            out.push_back(Diagnostic{file, inc.line, "",
                                     "@include \"" + inc.path + "\" closes a cycle: " + cycle + path +
                                         " (a file must not include itself, directly or through others)"});
            return false;
        }
        walk.chain.emplace_back(id, path);
        const bool ok = prescanAll(path, sub, includeDir, depth + 1, walk, out);
        walk.chain.pop_back();
        if (!ok) return false;
    }
    return true;
}

}  // namespace

LoadResult loadFile(const std::string& path) {
    std::string text, why;
    FileId id;
    if (!readConfigFile(path, text, why, &id)) {
        LoadResult r;
        r.diagnostics.push_back(Diagnostic{path, 0, "", why});
        return r;
    }
    LoadResult pre;
    IncludeWalk walk;
    walk.chain.emplace_back(id, path);
    walk.bytes = text.size();
    prescanAll(path, text, dirOf(path), 0, walk, pre.diagnostics);
    if (!pre.diagnostics.empty()) return pre;
    return guardedLoad(path, dirOf(path), [&](libconfig::Config& lc) { lc.readString(text); });
}

LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir) {
    LoadResult pre;
    IncludeWalk walk;
    walk.bytes = text.size();
    prescanAll(name, text, includeDir, 0, walk, pre.diagnostics);
    if (!pre.diagnostics.empty()) return pre;
    return guardedLoad(name, includeDir, [&](libconfig::Config& lc) { lc.readString(text); });
}

}  // namespace conf
