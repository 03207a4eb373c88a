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

// Reads a config file (or an included one) without ever blocking: only a regular file is read.
bool readConfigFile(const std::string& path, std::string& text, std::string& why) {
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

// The prescan of `text` and of every file it includes (resolved against `includeDir`, as
// libconfig resolves them), each checked before libconfig opens it.
void prescanAll(const std::string& file, const std::string& text, const std::string& includeDir, int depth,
                Diagnostics& out) {
    const PrescanResult r = prescan(text);
    for (const auto& i : r.issues) out.push_back(Diagnostic{file, i.line, "", i.message});
    for (const auto& inc : r.includes) {
        const std::string path = !inc.path.empty() && inc.path[0] == '/' ? inc.path : includeDir + "/" + inc.path;
        if (depth >= 10) {
            out.push_back(Diagnostic{file, inc.line, "", "@include nested more than 10 deep"});
            continue;
        }
        std::string sub, why;
        if (!readConfigFile(path, sub, why)) {
            out.push_back(Diagnostic{file, inc.line, "", "@include \"" + inc.path + "\": " + why});
            continue;
        }
        prescanAll(path, sub, includeDir, depth + 1, out);
    }
}

}  // namespace

LoadResult loadFile(const std::string& path) {
    std::string text, why;
    if (!readConfigFile(path, text, why)) {
        LoadResult r;
        r.diagnostics.push_back(Diagnostic{path, 0, "", why});
        return r;
    }
    LoadResult pre;
    prescanAll(path, text, dirOf(path), 0, pre.diagnostics);
    if (!pre.diagnostics.empty()) return pre;
    return guardedLoad(path, dirOf(path), [&](libconfig::Config& lc) { lc.readString(text); });
}

LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir) {
    LoadResult pre;
    prescanAll(name, text, includeDir, 0, pre.diagnostics);
    if (!pre.diagnostics.empty()) return pre;
    return guardedLoad(name, includeDir, [&](libconfig::Config& lc) { lc.readString(text); });
}

}  // namespace conf
