// libFuzzer: configs with includes. The input is split at "\n%%\n" into up to four files, f0 (the
// one loaded) to f3, written to a directory of this process's own; they may include each other in
// any way, cycles and diamonds too. The load returns diagnostics or a config, never crashes, and
// a cycle is refused (never followed: the caps would otherwise take it over 256 files).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "conf/Loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    static const std::string dir = [] {
        const std::string d = "include-fuzz-" + std::to_string(::getpid());  // in the run's folder (build-fuzz)
        std::filesystem::create_directories(d);
        return d;
    }();
    const std::string in(reinterpret_cast<const char*>(data), size);
    size_t start = 0;
    for (int i = 0; i < 4; ++i) {
        size_t end = in.find("\n%%\n", start);
        const std::string part = start <= in.size() ? in.substr(start, end == std::string::npos ? std::string::npos
                                                                                                 : end - start)
                                                    : std::string();
        std::ofstream(dir + "/f" + std::to_string(i)) << part;
        start = end == std::string::npos ? in.size() + 1 : end + 4;
    }
    auto r = conf::loadFile(dir + "/f0");
    if (r.ok() && r.diagnostics.size()) std::abort();
    return 0;
}
