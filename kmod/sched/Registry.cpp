#include "kmod/sched/Registry.h"

#include <array>

#include "kmod/sched/Schedulers.h"

namespace kmod::sched {
namespace {

template <class S, auto... Args>
std::unique_ptr<Scheduler> plain(std::uint32_t, std::uint32_t) {
    return std::make_unique<S>(Args...);
}

const std::array<SchedulerInfo, 14> kSchedulers = {{
    {"rr", false, kKernelPlane | kUserspacePlane, plain<RoundRobin>},
    {"wrr", false, kKernelPlane | kUserspacePlane, plain<WeightedRoundRobin>},
    {"lc", false, kKernelPlane | kUserspacePlane, plain<LeastConnection, LeastConnection::Kind::Lc>},
    {"wlc", false, kKernelPlane | kUserspacePlane, plain<LeastConnection, LeastConnection::Kind::Wlc>},
    {"sed", false, kKernelPlane | kUserspacePlane, plain<LeastConnection, LeastConnection::Kind::Sed>},
    {"nq", false, kKernelPlane | kUserspacePlane, plain<LeastConnection, LeastConnection::Kind::Nq>},
    {"sh", true, kKernelPlane | kUserspacePlane,
     [](std::uint32_t flags, std::uint32_t) -> std::unique_ptr<Scheduler> {
         return std::make_unique<HashScheduler>(HashScheduler::Kind::Source, flags);
     }},
    {"dh", false, kKernelPlane | kUserspacePlane,
     [](std::uint32_t flags, std::uint32_t) -> std::unique_ptr<Scheduler> {
         return std::make_unique<HashScheduler>(HashScheduler::Kind::Destination, flags);
     }},
    {"mh", true, kKernelPlane | kUserspacePlane,
     [](std::uint32_t flags, std::uint32_t) -> std::unique_ptr<Scheduler> { return std::make_unique<Maglev>(flags); }},
    {"lblc", false, kKernelPlane | kUserspacePlane, plain<Locality, Locality::Kind::Lblc>},
    {"lblcr", false, kKernelPlane | kUserspacePlane, plain<Locality, Locality::Kind::Lblcr>},
    {"fo", false, kKernelPlane | kUserspacePlane, plain<Failover, false>},
    {"ovf", false, kKernelPlane | kUserspacePlane, plain<Failover, true>},
    {"twos", false, kKernelPlane | kUserspacePlane,
     [](std::uint32_t, std::uint32_t seed) -> std::unique_ptr<Scheduler> {
         return std::make_unique<TwoChoices>(seed);
     }},
}};

}  // namespace

std::span<const SchedulerInfo> schedulers() { return kSchedulers; }

const SchedulerInfo* findScheduler(std::string_view name) {
    for (const auto& s : kSchedulers)
        if (s.name == name) return &s;
    return nullptr;
}

std::string schedulerNames() {
    std::string out;
    for (const auto& s : kSchedulers) out += (out.empty() ? "" : " ") + std::string(s.name);
    return out;
}

std::unique_ptr<Scheduler> makeScheduler(const std::string& name, std::uint32_t flags, std::uint32_t seed) {
    const SchedulerInfo* s = findScheduler(name);
    if (!s || !s->make || !(s->planes & kUserspacePlane)) return nullptr;
    return s->make(flags, seed);
}

}  // namespace kmod::sched
