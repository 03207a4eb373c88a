// libFuzzer: the config loader (prescan, libconfig, the schema, validation) takes any text and
// returns diagnostics or a config, never crashes, and a config it accepts dumps and loads back.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "conf/Dump.h"
#include "conf/Loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (text.find("@include") != std::string::npos) return 0;  // no files from the fuzzer
    auto r = conf::loadString(text, "fuzz.conf", "/nonexistent");
    if (!r.ok()) return 0;
    auto again = conf::loadString(conf::dump(*r.config), "dumped.conf", "/nonexistent");
    if (!again.ok() || !(*again.config == *r.config)) std::abort();
    return 0;
}
