// ProbeFactory: turns a configured check of a real server into a Probe and its timing, with the
// virtual server's defaults filled in. The seam between the config and healthcheck/: tests inject
// scripted probes, production builds each type's probe on the lvs worker's loop through the check
// registry (director/checks/CheckKind.h).
#pragma once
#include <memory>
#include <string>

#include "base/Asio.h"
#include "conf/Config.h"
#include "healthcheck/CheckSession.h"
#include "healthcheck/Probe.h"

namespace director::lvs {

healthcheck::CheckTiming checkTiming(const conf::VirtualServer& vs, const conf::CheckConfig& c);
// Everything that makes two checks the same check (type, target, every resolved field): checks
// with equal keys run once and feed every real server that has them.
std::string checkKey(const conf::Config& cfg, const conf::VirtualServer& vs, const conf::RealServer& rs,
                     const conf::CheckConfig& c);

class ProbeFactory {
public:
    virtual ~ProbeFactory() = default;
    // Null (with `why`) when the check cannot run (bad regex, unreadable TLS files, unknown user).
    virtual std::unique_ptr<healthcheck::Probe> make(const conf::Config& cfg, const conf::VirtualServer& vs,
                                                     const conf::RealServer& rs, const conf::CheckConfig& c,
                                                     std::string& why) = 0;
};

class AsioProbeFactory : public ProbeFactory {
public:
    explicit AsioProbeFactory(asio::io_context& io) : io_(io) {}
    std::unique_ptr<healthcheck::Probe> make(const conf::Config& cfg, const conf::VirtualServer& vs,
                                             const conf::RealServer& rs, const conf::CheckConfig& c,
                                             std::string& why) override;

private:
    asio::io_context& io_;
};

}  // namespace director::lvs
