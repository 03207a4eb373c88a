#pragma once
// The forwarding worker's side of the userspace plane's link: what the lvs worker sends (a table to
// forward, questions about counters and connections, sync daemons to start or stop, counters to
// zero) applied to the Forwarder, and the answers sent back. The worker's main (director/Daemon.cpp)
// only wires this to its channel, heartbeat and signals.

#include "base/Asio.h"
#include "director/Channel.h"
#include "director/protocol/Messages.h"
#include "kmod/userspace/Forwarder.h"

namespace director::fwd {

// Applies one message from the lvs worker to `forwarder`; answers, where the message asks, on `reply`.
// Messages that are not for the forwarding worker are ignored.
void serve(kmod::userspace::Forwarder& forwarder, Channel& reply, protocol::Message&& m);

// Keeps the supervisor's copy of the persistence templates' bindings: each second, when they
// changed, the whole set as one TemplatesMsg (with more than 10,000 templates, every N/10,000 s:
// about 0.5 MB a second at most). The worker that replaces a dead one restores them.
class TemplateCopy {
public:
    TemplateCopy(asio::io_context& io, kmod::userspace::Forwarder& forwarder, Channel& supervisor)
        : timer_(io), forwarder_(forwarder), supervisor_(supervisor) {}
    void start() { tick(); }
    void stop() { timer_.cancel(); }

private:
    void tick();
    asio::steady_timer timer_;
    kmod::userspace::Forwarder& forwarder_;
    Channel& supervisor_;
    std::pair<std::uint64_t, std::uint64_t> sent_;  // templateChanges() when last sent
    bool any_ = false;        // sent once (the first tick always sends: the supervisor's copy may be older)
};

}  // namespace director::fwd
