#include "director/status/StatusFront.h"
#include "director/status/StatusPage.h"

#include <algorithm>

#include "base/Log.h"
#include "director/status/SnmpTables.h"

namespace director::status {
namespace {

// How often the front looks whether its counters changed (and tells the lvs worker if so).
constexpr auto kReportEvery = std::chrono::seconds(1);

std::int64_t msSince(std::chrono::steady_clock::time_point t) {
    if (t.time_since_epoch().count() == 0) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

StatusFront::StatusFront(asio::io_context& io, const conf::Config& cfg, Channel& lvs)
    : io_(io), lvs_(lvs), reportTimer_(io) {
    cfg_.file = cfg.file;
    cfg_.global = cfg.global;
    lvs_.onMessage([this](protocol::Message&& m) { handle(std::move(m)); });
}

StatusFront::~StatusFront() { stop(); }

void StatusFront::start() {
    configure();
    report(true);
    armReport();
}

void StatusFront::reload(const conf::Config& cfg) {
    cfg_.file = cfg.file;
    cfg_.global = cfg.global;
    configure();
}

void StatusFront::stop() {
    if (stopped_) return;
    stopped_ = true;
    reportTimer_.cancel();
    http_.reset();
    for (auto& [id, p] : pending_) p.timer->cancel();
    pending_.clear();
    // Last: its thread sends what is queued and closes the AgentX session (up to a second).
    agent_.reset();
}

void StatusFront::handle(protocol::Message&& m) {
    if (auto* c = std::get_if<protocol::ConfigMsg>(&m)) return reload(c->config);
    if (auto* r = std::get_if<protocol::StatusReplyMsg>(&m)) {
        auto it = pending_.find(r->id);
        if (it == pending_.end()) return;  // answered late: the client already had its 503
        auto done = std::move(it->second.done);
        it->second.timer->cancel();
        pending_.erase(it);
        if (!r->found) return done(std::nullopt);
        return done(HttpBody{std::move(r->contentType), std::move(r->body)});
    }
    if (auto* t = std::get_if<protocol::MibMsg>(&m)) {
        if (!agent_) return;
        auto tree = std::make_shared<snmp::MibTree>();
        for (auto& [oid, v] : t->objects) tree->set(oid, std::move(v));
        return agent_->publish(std::move(tree));
    }
    if (auto* t = std::get_if<protocol::TrapMsg>(&m)) {
        if (agent_) agent_->trap(std::move(t->trap));
        return;
    }
    base::log::debug("status: ignoring a message of type ", static_cast<int>(protocol::typeOf(m)));
}

// global.status.listen: a changed address rebinds; removed, the listener closes. global.snmp: a
// changed setting reconnects the subagent.
void StatusFront::configure() {
    if (stopped_) return;
    const auto& want = cfg_.global.status.listen;
    if (!(http_ && want && http_->address() == *want)) {
        http_.reset();
        if (want) {
            http_ = std::make_unique<StatusServer>(
                io_, *want, [this](const std::string& path, StatusServer::Done done) { ask(path, std::move(done)); });
            if (!http_->start()) http_.reset();
        }
    }
    const auto& snmp = cfg_.global.snmp;
    if (agent_ && snmp == agentConfig_) return;
    if (agent_) base::log::info("snmp: settings changed; reconnecting the subagent");
    agent_.reset();
    agentConfig_ = snmp;
    if (!snmp.enabled) return;
    snmp::AgentOptions o;
    o.socket = snmp.agentxSocket;
    auto serves = [&](const char* mib) { return std::find(snmp.mibs.begin(), snmp.mibs.end(), mib) != snmp.mibs.end(); };
    if (serves("keepalived")) o.roots.push_back(mib::keepalivedRoot());
    if (serves("vrrp")) o.roots.push_back(mib::vrrpRoot());
    if (serves("vrrpv3")) o.roots.push_back(mib::vrrpv3Root());
    agent_ = std::make_unique<snmp::Agent>(std::move(o));
    report(true);  // the lvs worker sends a snapshot for the new agent
}

void StatusFront::ask(const std::string& path, StatusServer::Done done) {
    if (const auto* page = pageAsset(path))  // the status page's files: built in, no need to ask
        return done(HttpBody{std::string(page->contentType), std::string(page->body)});
    if (path != "/status" && path != "/metrics") return done(std::nullopt);  // nothing else is asked for
    const std::uint64_t id = nextId_++;
    Pending p{std::move(done), std::make_unique<asio::steady_timer>(io_)};
    p.timer->expires_after(kAnswerTimeout);
    p.timer->async_wait([this, id](const boost::system::error_code& ec) {
        if (ec) return;
        auto it = pending_.find(id);
        if (it == pending_.end()) return;
        auto d = std::move(it->second.done);
        pending_.erase(it);
        base::log::warning("status: the lvs worker did not answer a request within ", kAnswerTimeout.count(),
                           " s (restarting?); answered 503");
        HttpBody b;
        b.unavailable = true;
        d(std::move(b));
    });
    pending_.emplace(id, std::move(p));
    lvs_.send(protocol::StatusRequestMsg{id, path});
}

void StatusFront::report(bool fresh) {
    protocol::FrontStatsMsg s;
    s.fresh = fresh;
    s.httpRequests = http_ ? http_->requests() : said_.httpRequests;
    if (agent_) {
        s.snmpRequests = agent_->requests();
        s.trapsSent = agent_->trapsSent();
        s.snmpIdleMs = msSince(agent_->lastRequest());
        s.agentConnected = agent_->connected();
    }
    // the idle time grows by itself: tell only what the lvs worker cannot work out
    const bool changed = !saidOnce_ || s.httpRequests != said_.httpRequests || s.snmpRequests != said_.snmpRequests ||
                         s.trapsSent != said_.trapsSent || s.agentConnected != said_.agentConnected;
    if (!fresh && !changed) return;
    said_ = s;
    saidOnce_ = true;
    lvs_.send(s);
}

void StatusFront::armReport() {
    reportTimer_.expires_after(kReportEvery);
    reportTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        report(false);
        armReport();
    });
}

}  // namespace director::status
