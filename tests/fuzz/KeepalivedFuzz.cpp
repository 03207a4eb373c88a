// libFuzzer: the keepalived.conf importer takes any text: it reports what it cannot carry over and
// never crashes, and whatever it prints loads with the real loader unless it says otherwise.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "conf/KeepalivedImport.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (text.find("include") != std::string::npos) return 0;  // no files from the fuzzer
    const auto r = conf::importKeepalivedString(text, "fuzz.conf", "fuzz");
    // complete() promises a config that loads: it must never say so of one that does not
    if (r.complete() && !r.loadErrors.empty()) std::abort();
    return 0;
}
