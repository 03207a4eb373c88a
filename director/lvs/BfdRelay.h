// BfdRelay: the BFD sessions VRRP instances track (track_bfds), run on the lvs worker's loop with
// the bfd checks' (one BfdEngine per loop: a session a check and an instance both follow is one
// session, and only one process may hold BFD's port). Each tracked session's state goes to the
// vrrp worker as a BfdStateMsg when it changes: Up, or not Up (at the session's first report, after
// its start-up allowance; healthcheck::BfdProbe's rules). A reload keeps what did not change.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/Asio.h"
#include "conf/Config.h"
#include "healthcheck/BfdEngine.h"

namespace director::lvs {

class BfdRelay {
public:
    using Send = std::function<void(const std::string& name, bool up)>;
    BfdRelay(asio::io_context& io, Send send) : io_(io), send_(std::move(send)) {}
    // Follows every bfd_instance some vrrp instance tracks.
    void configure(const conf::Config& cfg);

private:
    struct Watch {
        healthcheck::BfdPeer peer;
        std::unique_ptr<healthcheck::BfdProbe> probe;
    };
    void run(const std::string& name);
    asio::io_context& io_;
    Send send_;
    std::map<std::string, Watch> watches_;
};

}  // namespace director::lvs
