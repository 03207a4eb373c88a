// SnmpTables: what directord serves over SNMP, as keepalived does (KEEPALIVED-MIB,
// enterprises.9586.100.5), built from the lvs worker's view: the config, the VRRP instances' status
// from the vrrp worker, health, quorum and the plane's table and counters. Indexes follow
// keepalived: virtual servers, VRRP instances and sync groups by their position in the config from
// 1; a virtual server's real servers from 1, its sorry server first when it has one. Objects that
// do not apply (a fwmark service's address) are absent, as in keepalived.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "conf/Config.h"
#include "director/lvs/DesiredState.h"
#include "director/status/Snapshot.h"
#include "director/protocol/Messages.h"
#include "director/snmp/MibTree.h"
#include "kmod/Model.h"
#include "kmod/Stats.h"

namespace director::status::mib {

// enterprises.debian.project.keepalived
const snmp::Oid& keepalivedRoot();

// What the MIBs are built from: the lvs worker's snapshot (director/status/Snapshot.h), the same one
// directorctl, /status and /metrics render. Its table and status are absent when not taken (traps).
using View = Snapshot;

void addKeepalived(snmp::MibTree& tree, const View& v);

// VRRP-MIB (RFC 2787, mib-2.68): VRRPv2 instances over IPv4 with a virtual address, indexed by
// ifIndex.VRID. VRRPv3-MIB (RFC 6527, mib-2.207): every instance with a virtual address, indexed
// by ifIndex.VRID.addressType. As keepalived (built with SNMP_V3_FOR_V2, as Debian's is), including
// its index of an associated address: the address's bytes without a length.
const snmp::Oid& vrrpRoot();
const snmp::Oid& vrrpv3Root();
void addVrrpMib(snmp::MibTree& tree, const View& v);
void addVrrpv3Mib(snmp::MibTree& tree, const View& v);
// vrrpTrapNewMaster / vrrpv3NewMaster, when the instance belongs to that MIB (else nullopt).
std::optional<snmp::Trap> vrrpNewMaster(const View& v, const conf::VrrpInstance& inst);
std::optional<snmp::Trap> vrrpv3NewMaster(const View& v, const conf::VrrpInstance& inst);

// KEEPALIVED-MIB notifications, with keepalived's varbinds in its order.
snmp::Trap instanceStateChange(const View& v, const conf::VrrpInstance& inst, ::vrrp::State state);
snmp::Trap syncGroupStateChange(const View& v, const conf::SyncGroup& group, ::vrrp::State state);
snmp::Trap realServerStateChange(const View& v, const conf::VirtualServer& vs, const conf::RealServer& rs, bool up);
snmp::Trap quorumStateChange(const View& v, const conf::VirtualServer& vs, bool met);

// keepalived's VrrpState encoding: init 0, backup 1, master 2, fault 3.
int stateCode(::vrrp::State s);
// A sync group's state: its members' when they agree; master only when all of them are.
::vrrp::State groupStateOf(const View& v, const conf::SyncGroup& g);
// A real server is up when it has no checks or its checks say so.
bool rsUp(const lvs::HealthView& h, const conf::VirtualServer& vs, const conf::RealServer& rs);

}  // namespace director::status::mib
