// The schedulers, once: each one's name, whether it takes the sh/mh flags (fallback, port), which
// planes have it, and how the userspace plane builds it. The config loader, the tables and the
// userspace plane's factory all ask this registry; no other list of scheduler names exists.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kmod/sched/Scheduler.h"

namespace kmod::sched {

enum PlaneBit : std::uint8_t { kKernelPlane = 1, kUserspacePlane = 2 };

struct SchedulerInfo {
    std::string_view name;
    bool hashFlags = false;  // takes kSvcSched1 (fallback) and kSvcSched2 (port)
    std::uint8_t planes = kKernelPlane | kUserspacePlane;
    std::unique_ptr<Scheduler> (*make)(std::uint32_t flags, std::uint32_t seed) = nullptr;
};

// In the kernel's order of listing (ipvsadm's man page): rr wrr lc wlc sed nq sh dh mh lblc lblcr fo ovf twos.
std::span<const SchedulerInfo> schedulers();
const SchedulerInfo* findScheduler(std::string_view name);
// "rr wrr lc ...", for messages.
std::string schedulerNames();

}  // namespace kmod::sched
