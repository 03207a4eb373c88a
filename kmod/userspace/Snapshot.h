// The userspace data plane's table as the forwarding threads see it: an immutable snapshot of the
// services and their destinations (in the kernel's list order), published by the control side on
// every change and read lock-free by the threads. Counters live in DestCounters objects that
// outlive snapshots (a destination kept across changes keeps its counters; connections hold them).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "kmod/Model.h"

namespace kmod {

struct DestCounters {
    std::atomic<std::uint32_t> active{0};    // established connections
    std::atomic<std::uint32_t> inactive{0};  // connections being set up or closing
    std::atomic<std::uint64_t> conns{0};
    std::atomic<std::uint64_t> inBytes{0};   // client -> real server
    std::atomic<std::uint64_t> outBytes{0};  // real server -> client
    std::atomic<std::uint64_t> failed{0};    // connects refused, reset or timed out
};

struct SnapshotDest {
    Dest dest;
    std::shared_ptr<DestCounters> counters;
};

struct SnapshotService {
    Service service;
    std::vector<SnapshotDest> dests;  // newest first, as the kernel lists them
    std::uint64_t version = 0;        // changes whenever this service or its dests change
};

struct Snapshot {
    std::map<ServiceKey, std::shared_ptr<const SnapshotService>> services;
};

}  // namespace kmod
