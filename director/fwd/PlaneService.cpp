#include "director/fwd/PlaneService.h"

#include <algorithm>

#include "base/Log.h"

namespace director::fwd {

void serve(kmod::userspace::Forwarder& forwarder, Channel& reply, protocol::Message&& m) {
    if (auto* t = std::get_if<protocol::TableMsg>(&m)) return forwarder.load(t->table);
    if (auto* q = std::get_if<protocol::PlaneQueryMsg>(&m)) {
        protocol::PlaneReportMsg r;
        r.id = q->id;
        r.status = forwarder.status();
        if (q->connections) r.connections = forwarder.connections();
        r.daemons = forwarder.syncDaemons();
        r.sync = forwarder.syncStatus();
        r.forwarding = forwarder.forwarding();
        return reply.send(r);
    }
    if (auto* z = std::get_if<protocol::PlaneZeroMsg>(&m)) return forwarder.zero(z->only);
    if (auto* d = std::get_if<protocol::PlaneDaemonMsg>(&m)) {
        const char* what = d->daemon.state == kmod::SyncDaemon::kMaster ? "master" : "backup";
        const auto ec = d->start ? forwarder.startSync(d->daemon) : forwarder.stopSync(d->daemon.state);
        if (ec)
            base::log::error("fwd: cannot ", d->start ? "start" : "stop", " the ", what, " sync daemon",
                             d->start ? " on " + d->daemon.interface : std::string(), ": ", ec.message());
        protocol::PlaneReportMsg r;
        r.daemons = forwarder.syncDaemons();
        r.sync = forwarder.syncStatus();
        r.daemonError = ec.value();
        return reply.send(r);
    }
}

void TemplateCopy::tick() {
    const auto changes = forwarder_.templateChanges();
    double wait = 1.0;
    if (!any_ || changes != sent_) {
        protocol::TemplatesMsg m;
        m.templates = forwarder_.templates();
        wait = std::max(1.0, static_cast<double>(m.templates.size()) / 10000.0);
        supervisor_.send(m);
        sent_ = changes;
        any_ = true;
    }
    timer_.expires_after(std::chrono::milliseconds(static_cast<long>(wait * 1000)));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

}  // namespace director::fwd
