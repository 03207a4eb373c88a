// libFuzzer: what a backup installs from any sync datagram, with its caps: the decoder's entries
// applied to SyncedConns as from one of four senders (the first byte picks), then swept. The table
// never holds more than its cap in all, or from one sender; the budget's count is the table's.
#include <cstdint>
#include <cstdlib>

#include "kmod/sync/SyncProtocol.h"
#include "kmod/userspace/SyncedConns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    using namespace kmod;
using namespace kmod::userspace;
    static SyncedConns table;
    static bool once = [] {
        table.budget()->setLimits(SyncLimits{64, 64, 40});
        return true;
    }();
    (void)once;
    if (size < 2) return 0;
    const auto sender = base::IpAddress::v4(0x0a000001 + (data[0] & 3));
    auto r = sync::decodeSync({data + 1, size - 1}, 0);
    const auto now = SyncedConns::Clock::now();
    if (auto* d = std::get_if<sync::SyncDecoded>(&r))
        for (const auto& c : d->conns)
            if (!(c.flags & sync::kTemplate)) table.apply(c, nullptr, now, sender, c.timeout % 1000);
    if (table.size() > 64 || table.budget()->held(SyncBudget::kConnection) != table.size()) std::abort();
    if (data[0] & 4) {
        table.sweepStep(now + std::chrono::seconds(500), 16);
        if (table.budget()->held(SyncBudget::kConnection) != table.size()) std::abort();
    }
    if (data[0] & 8) table.clear();
    return 0;
}
