#include "conf/Loader.h"

#include <libconfig.h++>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "conf/Reader.h"
#include "conf/Schema.h"
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

LoadResult loadFile(const std::string& path) {
    {
        std::ifstream probe(path);
        if (!probe) {
            const int err = errno;
            LoadResult r;
            r.diagnostics.push_back(
                Diagnostic{path, 0, "", std::string("cannot read the file: ") + std::strerror(err)});
            return r;
        }
    }
    return guardedLoad(path, dirOf(path), [&](libconfig::Config& lc) { lc.readFile(path.c_str()); });
}

LoadResult loadString(const std::string& text, const std::string& name, const std::string& includeDir) {
    return guardedLoad(name, includeDir, [&](libconfig::Config& lc) { lc.readString(text); });
}

}  // namespace conf
