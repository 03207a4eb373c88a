// libFuzzer: the sync decoder never crashes or reads past the datagram (ASan), and what it accepts
// survives a round trip through the encoder unchanged. Build and run: tests/fuzz/run.sh.
#include <cstdint>
#include <cstdlib>

#include "kmod/sync/SyncProtocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    using namespace kmod::sync;
    auto r = decodeSync({data, size}, size > 1 ? data[1] : 0);
    auto* d = std::get_if<SyncDecoded>(&r);
    if (!d || d->conns.empty()) return 0;
    SyncEncoder enc(d->syncId, 65535);
    for (const auto& c : d->conns)
        if (!enc.add(c)) std::abort();  // it came in one datagram: it fits in one
    auto again = decodeSync(enc.take(), d->syncId);
    auto* d2 = std::get_if<SyncDecoded>(&again);
    if (!d2 || !d2->drops.empty() || d2->conns != d->conns) std::abort();
    return 0;
}
