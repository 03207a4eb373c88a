// VrrpWorker: the `vrrp` side of directord (DESIGN.md, process model): runs the VRRP instances
// (IPv4, v2 and v3, multicast or unicast), reports each one's role to the lvs worker over the
// channel, and follows reloads (changed instances restart; unchanged ones keep running).
#pragma once
#include "conf/Config.h"
#include "director/Channel.h"
#include "director/base/Asio.h"
#include "vrrp/Instance.h"

#include <map>
#include <memory>

namespace director {

class VrrpWorker {
public:
    VrrpWorker(asio::io_context& io, conf::Config cfg, Channel& peer);
    void start();
    void reload(conf::Config next);
    void stop();

private:
    void announce();
    void startInstance(const conf::VrrpInstance& v);
    asio::io_context& io_;
    conf::Config cfg_;
    Channel& peer_;
    std::map<std::string, std::unique_ptr<vrrp::Instance>> instances_;
    std::map<std::string, vrrp::State> roles_;
};

}  // namespace director
