// VrrpWorker: the `vrrp` side of directord (DESIGN.md, process model). It will run the VRRP
// instances (the VRRP issue); in this build it loads them, reports each one's role (INIT: no VRRP
// runs yet) to the lvs worker over the channel, and follows reloads.
#pragma once
#include "conf/Config.h"
#include "director/Channel.h"
#include "director/base/Asio.h"

namespace director {

class VrrpWorker {
public:
    VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer);
    void start();
    void reload(conf::Config next);
    void stop();

private:
    void announce();
    asio::io_context& io_;
    conf::Config cfg_;
    Channel& peer_;
};

}  // namespace director
