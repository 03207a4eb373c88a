// libFuzzer: the IPVS netlink attribute parser and every reply decoder take any bytes.
#include <cstdint>

#include "kmod/netlink/IpvsCodec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    using namespace kmod::netlink;
    auto attrs = parseAttrs({data, size});
    if (!attrs) return 0;
    (void)decodeService(*attrs);
    (void)decodeDest(*attrs, base::Family::V4);
    (void)decodeDest(*attrs, base::Family::V6);
    (void)decodeTimeouts(*attrs);
    (void)decodeInfo(*attrs);
    (void)decodeDaemon(*attrs);
    return 0;
}
