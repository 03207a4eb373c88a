// Probe: one kind of health check (TcpProbe, HttpProbe, ScriptProbe, ...). run() starts one
// attempt against the target and calls `done` exactly once, from the event loop, unless cancel()
// comes first (then never). Each attempt enforces its own deadline. One probe object runs one
// attempt at a time; CheckSession (timers, retries, rise/fall) drives it.
#pragma once
#include <functional>
#include <memory>

#include "healthcheck/ProbeResult.h"

namespace healthcheck {

class Probe {
public:
    using Done = std::function<void(ProbeResult)>;
    virtual ~Probe() = default;
    virtual void run(Done done) = 0;
    virtual void cancel() = 0;
};

}  // namespace healthcheck
