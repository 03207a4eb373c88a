#pragma once
// The forwarding worker's side of the userspace plane's link: what the lvs worker sends (a table to
// forward, questions about counters and connections, sync daemons to start or stop, counters to
// zero) applied to the Forwarder, and the answers sent back. The worker's main (director/Daemon.cpp)
// only wires this to its channel, heartbeat and signals.

#include "director/Channel.h"
#include "director/protocol/Messages.h"
#include "kmod/userspace/Forwarder.h"

namespace director::fwd {

// Applies one message from the lvs worker to `forwarder`; answers, where the message asks, on `reply`.
// Messages that are not for the forwarding worker are ignored.
void serve(kmod::userspace::Forwarder& forwarder, Channel& reply, protocol::Message&& m);

}  // namespace director::fwd
