#include "director/protocol/Messages.h"

#include "base/Wire.h"
#include "conf/Codec.h"

namespace kmod {

using base::wire::Is;

template <class T, class F>
requires Is<T, ServiceKey>
void fields(T& x, F&& f) { f(x.address, x.protocol, x.port, x.fwmark); }
template <class T, class F>
requires Is<T, Service>
void fields(T& x, F&& f) { f(x.key, x.scheduler, x.flags, x.timeout, x.netmask, x.peName); }
template <class T, class F>
requires Is<T, DestKey>
void fields(T& x, F&& f) { f(x.address, x.port); }
template <class T, class F>
requires Is<T, Dest>
void fields(T& x, F&& f) {
    f(x.key, x.forwarding, x.weight, x.upperThreshold, x.lowerThreshold, x.tunnelType, x.tunnelPort, x.tunnelFlags);
}
template <class T, class F>
requires Is<T, Timeouts>
void fields(T& x, F&& f) { f(x.tcp, x.tcpFin, x.udp); }
template <class T, class F>
requires Is<T, ForwardingLimits>
void fields(T& x, F&& f) {
    f(x.udpFlows, x.udpFlowsPerSource, x.udpUnansweredTimeout, x.tcpConnections, x.tcpConnectionsPerSource,
      x.tcpProgressTimeout, x.sourcePrefixV4, x.sourcePrefixV6);
}
template <class T, class F>
requires Is<T, ForwardingCounters>
void fields(T& x, F&& f) {
    f(x.udpFlows, x.udpRefused, x.udpLimit, x.udpPerSource, x.tcpConnections, x.tcpRefused, x.tcpLimit, x.tcpPerSource);
}
template <class T, class F>
requires Is<T, StatsCounters>
void fields(T& x, F&& f) { f(x.conns, x.inpkts, x.outpkts, x.inbytes, x.outbytes); }
template <class T, class F>
requires Is<T, StatsRates>
void fields(T& x, F&& f) { f(x.cps, x.inpps, x.outpps, x.inbps, x.outbps); }
template <class T, class F>
requires Is<T, DestStatus>
void fields(T& x, F&& f) { f(x.activeConns, x.inactConns, x.persistConns, x.stats, x.rates); }
template <class T, class F>
requires Is<T, ServiceStatus>
void fields(T& x, F&& f) { f(x.stats, x.rates, x.dests); }
template <class T, class F>
requires Is<T, ConnEntry>
void fields(T& x, F&& f) {
    f(x.protocol, x.client, x.clientPort, x.vaddr, x.vport, x.daddr, x.dport, x.state, x.expires, x.peName, x.peData);
}

template <class T, class F>
requires Is<T, SyncDaemon>
void fields(T& x, F&& f) { f(x.state, x.interface, x.syncId, x.maxLen, x.group, x.port, x.ttl, x.peers, x.limits); }
template <class T, class F>
requires Is<T, SyncLimits>
void fields(T& x, F&& f) { f(x.maxConnections, x.maxTemplates, x.maxPerSource); }
template <class T, class F>
requires Is<T, SyncStatus>
void fields(T& x, F&& f) {
    f(x.messagesSent, x.entriesSent, x.sendErrors, x.queueDrops, x.messagesReceived, x.entriesReceived,
      x.templatesInstalled, x.connectionsInstalled, x.unbound, x.stale, x.drops, x.lastLagMs, x.syncedConnections);
}

}  // namespace kmod

namespace kmod::userspace {

template <class T, class F>
requires Is<T, PlaneDest>
void fields(T& x, F&& f) { f(x.dest, x.lastWeight, x.id); }
template <class T, class F>
requires Is<T, PlaneService>
void fields(T& x, F&& f) { f(x.service, x.dests, x.version); }
template <class T, class F>
requires Is<T, PlaneTable>
void fields(T& x, F&& f) { f(x.services, x.timeouts, x.limits); }
template <class T, class F>
requires Is<T, KeptTemplate>
void fields(T& x, F&& f) { f(x.service, x.clientNet, x.dest, x.state); }

}  // namespace kmod::userspace

namespace snmp {

using base::wire::Is;

template <class T, class F>
requires Is<T, Value>
void fields(T& x, F&& f) { f(x.type, x.integer, x.number, x.bytes, x.oid); }
template <class T, class F>
requires Is<T, Trap>
void fields(T& x, F&& f) { f(x.trapOid, x.vars); }

}  // namespace snmp

namespace director::protocol {

using base::wire::Is;

template <class T, class F>
requires Is<T, RoleMsg>
void fields(T& x, F&& f) { f(x.instance, x.state); }
template <class T, class F>
requires Is<T, BfdStateMsg>
void fields(T& x, F&& f) { f(x.name, x.up); }
template <class T, class F>
requires Is<T, InstanceStatus>
void fields(T& x, F&& f) {
    f(x.name, x.state, x.interface, x.vrid, x.version, x.family, x.priority, x.effectivePriority, x.masterSeen,
      x.syncGroup, x.advertsSent, x.advertsReceived, x.announcementsSent, x.transitions, x.drops, x.ifindex, x.mac,
      x.primary, x.source, x.masterTransitions, x.masterReason, x.priorityZeroSent, x.priorityZeroReceived,
      x.protocolErrorReason, x.upSinceMs, x.scripts, x.lastTransition, x.claimsHeard, x.claimsAnswered);
}
template <class T, class F>
requires Is<T, InstanceStatusMsg>
void fields(T& x, F&& f) { f(x.status); }
template <class T, class F>
requires Is<T, TableMsg>
void fields(T& x, F&& f) { f(x.table); }
template <class T, class F>
requires Is<T, TemplatesMsg>
void fields(T& x, F&& f) { f(x.templates); }
template <class T, class F>
requires Is<T, PlaneQueryMsg>
void fields(T& x, F&& f) { f(x.id, x.connections); }
template <class T, class F>
requires Is<T, PlaneReportMsg>
void fields(T& x, F&& f) { f(x.id, x.status, x.connections, x.daemons, x.sync, x.daemonError, x.forwarding); }
template <class T, class F>
requires Is<T, PlaneZeroMsg>
void fields(T& x, F&& f) { f(x.only); }
template <class T, class F>
requires Is<T, PlaneDaemonMsg>
void fields(T& x, F&& f) { f(x.start, x.daemon); }

template <class T, class F>
requires Is<T, DisabledServer>
void fields(T& x, F&& f) { f(x.service, x.dest, x.since); }
template <class T, class F>
requires Is<T, OperatorMsg>
void fields(T& x, F&& f) { f(x.disabled, x.withdrawn); }
template <class T, class F>
requires Is<T, ReloadRequestMsg>
void fields(T& x, F&& f) { f(x.id); }
template <class T, class F>
requires Is<T, ReloadResultMsg>
void fields(T& x, F&& f) { f(x.id, x.applied, x.errors); }
template <class T, class F>
requires Is<T, AppliedMsg>
void fields(T& x, F&& f) { f(x.summary); }
template <class T, class F>
requires Is<T, HeartbeatMsg>
void fields(T& x, F&& f) { f(x.seq); }
template <class T, class F>
requires Is<T, StatusRequestMsg>
void fields(T& x, F&& f) { f(x.id, x.path); }
template <class T, class F>
requires Is<T, StatusReplyMsg>
void fields(T& x, F&& f) { f(x.id, x.found, x.contentType, x.body); }
template <class T, class F>
requires Is<T, MibMsg>
void fields(T& x, F&& f) { f(x.objects); }
template <class T, class F>
requires Is<T, TrapMsg>
void fields(T& x, F&& f) { f(x.trap); }
template <class T, class F>
requires Is<T, FrontStatsMsg>
void fields(T& x, F&& f) {
    f(x.fresh, x.httpRequests, x.snmpRequests, x.trapsSent, x.snmpIdleMs, x.agentConnected);
}
template <class T, class F>
requires Is<T, WorkerRecord>
void fields(T& x, F&& f) { f(x.name, x.restarts, x.startedAt); }
template <class T, class F>
requires Is<T, SupervisorStatsMsg>
void fields(T& x, F&& f) {
    f(x.startedAt, x.reloadFailures, x.lastReloadAt, x.lastReloadOk, x.lastReloadError, x.workers);
}

namespace {

template <class M>
std::string payloadOf(const M& m) {
    if constexpr (std::is_same_v<M, ConfigMsg>) return conf::encodeConfig(m.config);
    else return base::wire::encode(m);
}

template <class M>
void decodeAs(std::string_view payload, std::optional<Message>& out) {
    if constexpr (std::is_same_v<M, ConfigMsg>) {
        if (auto c = conf::decodeConfig(payload)) out.emplace(std::in_place_type<ConfigMsg>, ConfigMsg{std::move(*c)});
    } else {
        if (auto m = base::wire::decode<M>(payload)) out.emplace(std::in_place_type<M>, std::move(*m));
    }
}

template <size_t I = 0>
void decodeIndex(size_t index, std::string_view payload, std::optional<Message>& out) {
    if constexpr (I < std::variant_size_v<Message>) {
        if (index == I) decodeAs<std::variant_alternative_t<I, Message>>(payload, out);
        else decodeIndex<I + 1>(index, payload, out);
    }
}

}  // namespace

std::string encode(const Message& m) {
    return std::visit([&](const auto& x) { return frameBytes(typeOf(m), payloadOf(x)); }, m);
}

std::optional<Message> decode(const Frame& f) {
    std::optional<Message> out;
    if (f.type != 0) decodeIndex(f.type - 1u, f.payload, out);
    return out;
}

Route routeOf(std::uint8_t type) {
    Route r;
    if (type == typeOf<RoleMsg>()) r.lvs = r.fwd = true;
    else if (type == typeOf<InstanceStatusMsg>() || type == typeOf<PlaneReportMsg>() ||
             type == typeOf<StatusRequestMsg>() || type == typeOf<FrontStatsMsg>())
        r.lvs = true;
    else if (type == typeOf<StatusReplyMsg>() || type == typeOf<MibMsg>() || type == typeOf<TrapMsg>())
        r.status = true;
    else if (type == typeOf<BfdStateMsg>())
        r.vrrp = true;
    else if (type == typeOf<TableMsg>() || type == typeOf<PlaneQueryMsg>() || type == typeOf<PlaneZeroMsg>() ||
             type == typeOf<PlaneDaemonMsg>())
        r.fwd = true;
    return r;
}

}  // namespace director::protocol
