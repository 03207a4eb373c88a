// libFuzzer: ipvsctl's command line (ipvsadm's syntax): the input split at NUL bytes is argv.
#include <cstdint>
#include <string>
#include <vector>

#include "kmod/ipvsadm/Ipvsadm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    std::vector<std::string> args(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) args.emplace_back();
        else args.back() += static_cast<char>(data[i]);
    }
    std::string error;
    int status = 0;
    (void)kmod::ipvsadm::parseIpvsadm(args, error, &status);
    return 0;
}
