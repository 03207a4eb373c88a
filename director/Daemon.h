// The bodies of directord's processes: each worker's event loop (signals, channel, its component)
// and the --single-process variant that runs VRRP and LVS (with the userspace plane's forwarding)
// on one io_context.
#pragma once
#include "conf/Config.h"
#include "director/Supervisor.h"

namespace director {

int runLvsWorker(const WorkerContext& ctx);
int runVrrpWorker(const WorkerContext& ctx);
int runForwardingWorker(const WorkerContext& ctx);
int runStatusWorker(const WorkerContext& ctx);
int runSingleProcess(const conf::Config& cfg, conf::DataPlane plane);

}  // namespace director
