// Random IPVS tables for property tests: small address and port pools so that two tables share
// services and destinations often, with random attribute changes.
#pragma once
#include <random>

#include "kmod/Model.h"

namespace testutil {

inline kmod::TableState randomTable(std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    static const char* kScheds[] = {"rr", "wrr", "wlc", "sh", "mh"};
    kmod::TableState t;
    const int services = pick(6);
    for (int i = 0; i < services; ++i) {
        kmod::Service s;
        if (pick(5) == 0)
            s.key = kmod::ServiceKey::mark(pick(2) ? base::Family::V4 : base::Family::V6,
                                           1 + static_cast<std::uint32_t>(pick(3)));
        else
            s.key = kmod::ServiceKey::inet(base::IpAddress::v4(0x0a000001u + static_cast<std::uint32_t>(pick(3))),
                                           pick(2) ? kmod::kTcp : kmod::kUdp, static_cast<std::uint16_t>(80 + pick(2)));
        s.scheduler = kScheds[pick(5)];
        if (pick(3) == 0) {
            s.flags |= kmod::kSvcPersistent;
            s.timeout = 300;
        }
        const int dests = pick(5);
        t.addService(s);
        for (int d = 0; d < dests; ++d) {
            kmod::Dest dest;
            dest.key = kmod::DestKey{base::IpAddress::v4(0x0a010001u + static_cast<std::uint32_t>(pick(4))), 8080};
            dest.weight = static_cast<std::uint32_t>(pick(3));
            dest.forwarding = pick(2) ? kmod::Forwarding::Masq : kmod::Forwarding::Route;
            dest.upperThreshold = static_cast<std::uint32_t>(pick(2) * 100);
            t.addDest(s.key, dest);
        }
    }
    return t;
}

}  // namespace testutil
