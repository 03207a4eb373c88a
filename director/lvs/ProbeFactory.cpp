#include "director/lvs/ProbeFactory.h"

#include <sstream>

#include "director/checks/CheckKind.h"

namespace director::lvs {

healthcheck::CheckTiming checkTiming(const conf::VirtualServer& vs, const conf::CheckConfig& c) {
    healthcheck::CheckTiming t;
    t.interval = c.delayLoop.value_or(vs.delayLoop);
    t.retryDelay = c.delayBeforeRetry.value_or(vs.delayBeforeRetry);
    t.warmup = c.warmup.value_or(vs.warmup);
    t.retries = c.retry.value_or(vs.retry);
    t.rise = c.rise;
    t.fall = c.fall;
    t.startDown = vs.alpha;
    if (const auto* kind = checks::find(c.type); kind && kind->onEvents) {
        // a file or BFD check: each attempt waits for the next change, and every change counts at
        // once (keepalived: no retries; a file's state is known from the start, no alpha)
        t.interval = base::Duration::zero();
        t.retryDelay = base::Duration::zero();
        t.warmup = base::Duration::zero();
        t.retries = 0;
        t.rise = t.fall = 1;
        t.startDown = c.type == conf::CheckType::Bfd && vs.alpha;
    }
    return t;
}

std::string checkKey(const conf::Config& cfg, const conf::VirtualServer& vs, const conf::RealServer& rs,
                     const conf::CheckConfig& c) {
    std::ostringstream k;
    const auto t = checkTiming(vs, c);
    k << conf::name(c.type) << '|' << c.connectIp.value_or(rs.address).str() << '|' << c.connectPort.value_or(rs.port)
      << '|' << (c.bindIp ? c.bindIp->str() : "") << '|' << c.bindPort << '|' << c.bindInterface << '|' << c.fwmark
      << '|' << c.logAllFailures << '|' << c.connectTimeout.value_or(vs.connectTimeout).count() << '|'
      << t.interval.count() << '|' << t.retryDelay.count() << '|' << t.warmup.count() << '|' << t.retries << '|'
      << t.rise << '|' << t.fall << '|' << t.startDown;
    if (const auto* kind = checks::find(c.type)) kind->key(k, checks::CheckRef{cfg, vs, rs, c});
    return k.str();
}

std::unique_ptr<healthcheck::Probe> AsioProbeFactory::make(const conf::Config& cfg, const conf::VirtualServer& vs,
                                                           const conf::RealServer& rs, const conf::CheckConfig& c,
                                                           std::string& why) {
    const auto* kind = checks::find(c.type);
    if (!kind) {
        why = std::string("no check type '") + conf::name(c.type) + "' in this build";
        return nullptr;
    }
    return kind->make(io_, checks::CheckRef{cfg, vs, rs, c}, why);
}

}  // namespace director::lvs
