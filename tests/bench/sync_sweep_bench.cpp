// The backup's synced-connection table at a million entries: how long one sweep step holds the
// lock the forwarding threads take (to hand a UDP flow over), against one whole-table pass under
// the lock (what the sweep did before it went a chunk at a time); and what an entry costs in
// memory, which sizes global.sync_daemon.max_connections. Prints the ratios.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kmod/userspace/SyncedConns.h"

using namespace kmod;
using namespace kmod::userspace;
using Clock = std::chrono::steady_clock;

namespace {

sync::SyncConn entry(std::uint32_t n) {
    sync::SyncConn c;
    c.protocol = 6;
    c.state = sync::kTcpEstablished;
    c.flags = sync::kSyncFlag;
    c.caddr = base::IpAddress::v4(0x0a000000 + n);
    c.cport = static_cast<std::uint16_t>(1024 + n % 60000);
    c.vaddr = base::IpAddress::v4(0x0a630064);
    c.vport = 80;
    c.daddr = base::IpAddress::v4(0x0a010001);
    c.dport = 8080;
    c.timeout = 900;
    return c;
}

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t n = 1000000;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--entries")) n = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
    SyncedConns t;
    t.budget()->setLimits(SyncLimits{n, n, n});
    const auto now = Clock::now();
    const auto source = base::IpAddress::v4(0x0a63000b);
    const size_t before = mallinfo2().uordblks;
    for (std::uint32_t i = 0; i < n; ++i) t.apply(entry(i), nullptr, now, source);
    const size_t bytes = mallinfo2().uordblks - before;
    std::printf("sync sweep benchmark: %u synced connections, %.0f bytes each (%.1f MB for the default cap "
                "of 131072)\n",
                n, double(bytes) / n, double(bytes) / n * 131072 / 1e6);
    // nothing expires: every step walks its whole chunk (the worst case for a step)
    std::vector<double> steps;
    const auto later = now + std::chrono::seconds(1);
    const auto p0 = Clock::now();
    for (bool done = false; !done;) {
        const auto s0 = Clock::now();
        done = t.sweepStep(later);
        steps.push_back(us(Clock::now() - s0));
    }
    const double pass = us(Clock::now() - p0);
    std::sort(steps.begin(), steps.end());
    const double p99 = steps[steps.size() * 99 / 100], worst = steps.back();
    // the old sweep: one pass under one lock (sweepStep with a chunk as large as the table)
    const auto w0 = Clock::now();
    t.sweepStep(later, n + 1);
    const double whole = us(Clock::now() - w0);
    std::printf("  step of %zu entries: p50 %.1f us, p99 %.1f us, max %.1f us (%zu steps, pass %.1f ms)\n",
                SyncedConns::kSweepChunk, steps[steps.size() / 2], p99, worst, steps.size(), pass / 1000);
    std::printf("  whole table under one lock (before): %.1f ms\n", whole / 1000);
    std::printf("ratio lock hold before/after (max step): %.0fx\n", whole / worst);
    return 0;
}
