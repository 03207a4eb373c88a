// bfd (keepalived's BFD_CHECK): the real server is up while a `bfd_instances` session is Up
// (healthcheck/BfdEngine.h runs the sessions, one per instance, however many checks follow it).
#include <algorithm>

#include "base/AsioAddress.h"
#include "director/checks/CheckKind.h"
#include "healthcheck/BfdEngine.h"

namespace director::checks {

namespace {

const conf::BfdInstance* instanceOf(const CheckRef& r) {
    auto it = std::find_if(r.cfg.bfdInstances.begin(), r.cfg.bfdInstances.end(),
                           [&](const conf::BfdInstance& b) { return b.name == r.c.bfd; });
    return it == r.cfg.bfdInstances.end() ? nullptr : &*it;
}

}  // namespace

healthcheck::BfdPeer bfdPeer(const conf::BfdInstance& b) {
    healthcheck::BfdPeer p;
    p.name = b.name;
    if (b.neighbor) p.neighbor = base::toAsio(*b.neighbor);
    if (b.source) p.source = base::toAsio(*b.source);
    p.params.minRx = micros(b.minRx);
    p.params.minTx = micros(b.minTx);
    p.params.idleTx = micros(b.idleTx);
    p.params.multiplier = static_cast<std::uint8_t>(b.multiplier);
    p.params.passive = b.passive;
    p.ttl = b.ttl;
    p.maxHops = b.maxHops;
    p.multihop = b.multihop;
    return p;
}

extern const CheckKind kBfd;
const CheckKind kBfd{
    conf::CheckType::Bfd,
    [](std::ostream& k, const CheckRef& r) {
        // the session's settings are the check's: a changed bfd_instance restarts its checks
        const auto* b = instanceOf(r);
        k << '|' << r.c.bfd;
        if (b)
            k << '|' << (b->neighbor ? b->neighbor->str() : "") << '|' << (b->source ? b->source->str() : "") << '|'
              << b->minRx.count() << '|' << b->minTx.count() << '|' << b->idleTx.count() << '|' << b->multiplier
              << '|' << b->passive << '|' << b->ttl << '|' << b->maxHops << '|' << b->multihop;
    },
    [](asio::io_context& io, const CheckRef& r, std::string& why) -> std::unique_ptr<healthcheck::Probe> {
        const auto* b = instanceOf(r);
        if (!b || !b->neighbor) {
            why = "no BFD instance '" + r.c.bfd + "'";
            return nullptr;
        }
        return std::make_unique<healthcheck::BfdProbe>(io, bfdPeer(*b));
    },
    true,
    false,
    true,
    [](const CheckRef& r) { return r.c.bfd; },
};

}  // namespace director::checks
