// The bodies of directord's processes: each worker's event loop (signals, channel, its component)
// and the --single-process variant that runs both components on one io_context.
#pragma once
#include "conf/Config.h"

namespace director {

int runLvsWorker(const conf::Config& cfg, int channelFd);
int runVrrpWorker(const conf::Config& cfg, int channelFd);
int runSingleProcess(const conf::Config& cfg);

}  // namespace director
