#include "conf/Codec.h"

#include "base/Wire.h"

namespace conf {

using base::wire::Is;

// Each type's members, all of them, in declaration order (a missing one fails the round trip).
template <class T, class F>
requires Is<T, Location>
void fields(T& x, F&& f) { f(x.file, x.line); }
template <class T, class F>
requires Is<T, Command>
void fields(T& x, F&& f) { f(x.argv); }
template <class T, class F>
requires Is<T, IpvsTimeouts>
void fields(T& x, F&& f) { f(x.tcp, x.tcpFin, x.udp); }
template <class T, class F>
requires Is<T, SyncDaemonConfig>
void fields(T& x, F&& f) {
    f(x.enabled, x.interface, x.syncId, x.group, x.port, x.ttl, x.maxlen, x.vrrpInstance, x.peers, x.maxConnections,
      x.maxTemplates, x.maxPerSource, x.where);
}
template <class T, class F>
requires Is<T, SnmpConfig>
void fields(T& x, F&& f) { f(x.enabled, x.agentxSocket, x.mibs, x.traps); }
template <class T, class F>
requires Is<T, StatusConfig>
void fields(T& x, F&& f) { f(x.listen); }
template <class T, class F>
requires Is<T, SmtpConfig>
void fields(T& x, F&& f) { f(x.server, x.connectTimeout, x.heloName, x.from, x.to, x.starttls); }
template <class T, class F>
requires Is<T, AnnounceConfig>
void fields(T& x, F&& f) { f(x.enabled, x.table, x.protocol, x.vrrpInstance, x.where); }
template <class T, class F>
requires Is<T, NftablesConfig>
void fields(T& x, F&& f) { f(x.table, x.sourceNat); }
template <class T, class F>
requires Is<T, UserspaceLimits>
void fields(T& x, F&& f) {
    f(x.udpFlows, x.udpFlowsPerSource, x.udpUnansweredTimeout, x.tcpConnections, x.tcpConnectionsPerSource,
      x.tcpProgressTimeout, x.sourcePrefixV4, x.sourcePrefixV6);
}
template <class T, class F>
requires Is<T, GlobalConfig>
void fields(T& x, F&& f) {
    f(x.routerId, x.scriptUser, x.scriptSecurity, x.notifyFifo, x.logLevel, x.logTarget, x.pidFile, x.netNamespace, x.controlSocket,
      x.stateDumpFile, x.dataPlane, x.flushOnStop, x.resyncInterval, x.vrrpStartupDelay, x.vrrpDelayAfterBoot, x.ipvsTimeouts, x.syncDaemon, x.snmp, x.status,
      x.allowEmpty, x.userspace, x.nftables, x.announce, x.smtp);
}
template <class T, class F>
requires Is<T, VrrpScript>
void fields(T& x, F&& f) {
    f(x.name, x.command, x.interval, x.timeout, x.weight, x.rise, x.fall, x.initFail, x.user, x.where);
}
template <class T, class F>
requires Is<T, VirtualRoute>
void fields(T& x, F&& f) { f(x.to, x.via, x.src, x.dev, x.table, x.metric, x.scope, x.type); }
template <class T, class F>
requires Is<T, VirtualRule>
void fields(T& x, F&& f) {
    f(x.family, x.from, x.to, x.priority, x.table, x.action, x.fwmark, x.fwmask, x.iif, x.oif, x.tos);
}
template <class T, class F>
requires Is<T, VirtualAddress>
void fields(T& x, F&& f) { f(x.prefix, x.dev, x.scope, x.label); }
template <class T, class F>
requires Is<T, TrackInterface>
void fields(T& x, F&& f) { f(x.interface, x.weight); }
template <class T, class F>
requires Is<T, TrackFile>
void fields(T& x, F&& f) { f(x.name, x.path, x.weight, x.reverse, x.initValue, x.initOverwrite, x.where); }
template <class T, class F>
requires Is<T, BfdInstance>
void fields(T& x, F&& f) {
    f(x.name, x.neighbor, x.source, x.minRx, x.minTx, x.idleTx, x.multiplier, x.passive, x.ttl, x.maxHops, x.multihop,
      x.weight, x.reverse, x.where);
}
template <class T, class F>
requires Is<T, TrackBfdRef>
void fields(T& x, F&& f) { f(x.bfd, x.weight, x.reverse, x.where); }
template <class T, class F>
requires Is<T, TrackFileRef>
void fields(T& x, F&& f) { f(x.file, x.weight, x.reverse, x.where); }
template <class T, class F>
requires Is<T, TrackProcess>
void fields(T& x, F&& f) {
    f(x.name, x.process, x.params, x.paramMatch, x.fullCommand, x.quorum, x.quorumMax, x.forkDelay, x.terminateDelay,
      x.weight, x.reverse, x.where);
}
template <class T, class F>
requires Is<T, TrackProcessRef>
void fields(T& x, F&& f) { f(x.process, x.weight, x.reverse, x.where); }
template <class T, class F>
requires Is<T, TrackScript>
void fields(T& x, F&& f) { f(x.script, x.weight, x.where); }
template <class T, class F>
requires Is<T, GarpConfig>
void fields(T& x, F&& f) {
    f(x.masterDelay, x.masterRepeat, x.masterRefresh, x.masterRefreshRepeat, x.interval, x.lowerPrioRepeat,
      x.lowerPrioDelay, x.defend);
}
template <class T, class F>
requires Is<T, NotifyConfig>
void fields(T& x, F&& f) { f(x.master, x.backup, x.fault, x.stop, x.generic); }
template <class T, class F>
requires Is<T, VmacConfig>
void fields(T& x, F&& f) { f(x.enabled, x.name, x.xmitBase); }
template <class T, class F>
requires Is<T, AdvertPath>
void fields(T& x, F&& f) { f(x.interface, x.unicastPeers, x.unicastSource); }
template <class T, class F>
requires Is<T, HmacKey>
void fields(T& x, F&& f) { f(x.id, x.value, x.file, x.credential, x.bytes); }
template <class T, class F>
requires Is<T, AuthHmac>
void fields(T& x, F&& f) { f(x.enabled, x.keys, x.activeKey, x.antiReplayTime, x.timeWindow, x.mode); }
template <class T, class F>
requires Is<T, VrrpInstance>
void fields(T& x, F&& f) {
    f(x.name, x.interface, x.vrid, x.priority, x.advertInterval, x.version, x.family, x.initialMaster, x.nopreempt,
      x.preemptDelay, x.authType, x.authPassword, x.authHmac, x.virtualAddresses, x.excludedAddresses, x.unicastSource,
      x.unicastPeers, x.advertPaths, x.unicastTtl, x.unicastFaultNoPeer, x.dontTrackPrimary, x.trackInterfaces, x.trackScripts, x.trackFiles, x.trackBfds, x.trackProcesses, x.virtualRoutes, x.virtualRules, x.garp, x.vmac, x.notify, x.notifyMasterRxLowerPri, x.acceptMode, x.smtpAlert, x.checksumPseudoHeader,
      x.lowerPrioNoAdvert, x.higherPrioSendAdvert, x.where);
}
template <class T, class F>
requires Is<T, SyncGroup>
void fields(T& x, F&& f) { f(x.name, x.members, x.notify, x.smtpAlert, x.where); }
template <class T, class F>
requires Is<T, StatusRange>
void fields(T& x, F&& f) { f(x.low, x.high); }
template <class T, class F>
requires Is<T, CheckConfig>
void fields(T& x, F&& f) {
    f(x.type, x.delayLoop, x.connectTimeout, x.delayBeforeRetry, x.warmup, x.retry, x.rise, x.fall, x.connectIp,
      x.connectPort, x.bindIp, x.bindPort, x.bindInterface, x.fwmark, x.logAllFailures, x.path, x.statusCodes, x.digest,
      x.regex, x.regexOptions, x.regexMinOffset, x.regexMaxOffset, x.regexHeaders, x.regexNoMatch, x.virtualhost, x.httpVersion,
      x.maxBody, x.readTimeout, x.http2, x.grpcService, x.tls, x.sni, x.verify, x.caFile, x.certFile, x.keyFile, x.command, x.user, x.timeout,
      x.dynamicWeight, x.payload, x.requireReply, x.reply, x.replyMask, x.minReplyLength, x.maxReplyLength, x.queryName,
      x.queryType, x.heloName, x.trackFile, x.fileWeight, x.fileReverse, x.bfd, x.where);
}
template <class T, class F>
requires Is<T, Tunnel>
void fields(T& x, F&& f) { f(x.type, x.port, x.checksum); }
template <class T, class F>
requires Is<T, RealServer>
void fields(T& x, F&& f) {
    f(x.address, x.port, x.weight, x.upperThreshold, x.lowerThreshold, x.forwarding, x.inhibitOnFailure, x.slowStart,
      x.notifyUp, x.notifyDown, x.smtpAlert, x.checks, x.where);
}
template <class T, class F>
requires Is<T, SorryServer>
void fields(T& x, F&& f) { f(x.address, x.port, x.weight, x.forwarding); }
template <class T, class F>
requires Is<T, VirtualServer>
void fields(T& x, F&& f) {
    f(x.address, x.port, x.protocol, x.fwmark, x.family, x.scheduler, x.schedFallback, x.schedPort, x.forwarding,
      x.tunnel, x.persistenceTimeout, x.persistenceNetmask, x.persistenceEngine, x.onePacket, x.quorum, x.hysteresis,
      x.quorumUp, x.quorumDown, x.sorryServer, x.inhibitOnFailure, x.alpha, x.omega, x.haSuspend, x.smtpAlert, x.virtualhost,
      x.delayLoop, x.connectTimeout, x.retry, x.delayBeforeRetry, x.warmup, x.slowStart, x.realServers, x.where);
}
template <class T, class F>
requires Is<T, Config>
void fields(T& x, F&& f) {
    f(x.file, x.global, x.vrrpScripts, x.trackFiles, x.trackProcesses, x.bfdInstances, x.staticAddresses, x.staticRoutes, x.staticRules, x.vrrpInstances, x.syncGroups,
      x.virtualServers);
}

std::string encodeConfig(const Config& c) { return base::wire::encode(c); }

std::optional<Config> decodeConfig(std::string_view bytes) { return base::wire::decode<Config>(bytes); }

}  // namespace conf
