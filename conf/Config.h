// conf::Config: the whole product's configuration as plain values. The loader (Loader.h) builds it
// from a libconfig file and reports every problem as `file:line: path: message`; nothing from
// libconfig leaks past it. Durations are base::Duration (written in seconds, kept to the
// microsecond); the IPVS enums are the model's own (kmod/Model.h), one enum per concept.
// conf/README.md documents each setting; Dump.h writes the canonical form that loads back equal.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/Duration.h"
#include "base/IpAddress.h"
#include "kmod/Model.h"

namespace conf {

using base::Duration;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""ms;

// Where a value came from. Not part of a value's meaning: two Locations always compare equal, so a
// config dumped and loaded back compares equal to the original.
struct Location {
    std::string file;
    int line = 0;
    bool operator==(const Location&) const { return true; }
};

// A program and its arguments, run without a shell. Written as a string (split at whitespace,
// "double quotes" group words, as keepalived does) or as an array of strings.
struct Command {
    std::vector<std::string> argv;
    bool empty() const { return argv.empty(); }
    std::string str() const;
    bool operator==(const Command&) const = default;
};

enum class DataPlane { Auto, Kernel, Userspace, Memory, Nftables };
enum class FlushOnStop { Created, All, None };
enum class LogTarget { Stderr, Syslog };

struct IpvsTimeouts {
    int tcp = 0;  // 0: leave the data plane's value unchanged
    int tcpFin = 0;
    int udp = 0;
    bool operator==(const IpvsTimeouts&) const = default;
};

// The userspace plane's descriptor budget (kmod::ForwardingLimits); 0: from the fd limit.
struct UserspaceLimits {
    int udpFlows = 0;
    int udpFlowsPerSource = 0;
    int udpUnansweredTimeout = 10;
    int tcpConnections = 0;
    int tcpConnectionsPerSource = 0;
    int tcpProgressTimeout = 60;  // a connection trickling without progress ends after this (0: never)
    int sourcePrefixV4 = 32;      // the per-source shares count clients by these prefixes
    int sourcePrefixV6 = 64;
    bool operator==(const UserspaceLimits&) const = default;
};

struct SyncDaemonConfig {
    bool enabled = false;  // true when the group is present
    std::string interface;
    int syncId = 0;
    base::IpAddress group = base::IpAddress::v4(0xe0000051);  // 224.0.0.81
    int port = 8848;
    int ttl = 1;
    int maxlen = 0;            // 0: the largest that fits the interface MTU
    std::string vrrpInstance;  // master while this instance is MASTER, backup otherwise
    // backup (userspace plane): the senders it hears, and what it installs at most
    std::vector<base::IpAddress> peers;
    int maxConnections = 131072;
    int maxTemplates = 131072;
    int maxPerSource = 65536;
    Location where;
    bool operator==(const SyncDaemonConfig&) const = default;
};

struct SnmpConfig {
    bool enabled = false;
    std::string agentxSocket = "/var/agentx/master";
    std::vector<std::string> mibs = {"keepalived", "vrrp", "vrrpv3"};
    bool traps = false;
    bool operator==(const SnmpConfig&) const = default;
};

// The nftables plane: its table and whether it masquerades (data_plane = "nftables", or auto's pick).
struct NftablesConfig {
    std::string table = "directord";
    bool sourceNat = false;
    bool operator==(const NftablesConfig&) const = default;
};

// Scale-out: each VIP directord is ready to serve goes into a kernel routing table of its own, for
// a routing daemon (BIRD's kernel protocol, FRR's ip import-table) to announce over BGP.
struct AnnounceConfig {
    bool enabled = false;      // true when the group is present
    int table = 0;             // the routing table (1..2^31-1, not main/local/default)
    int protocol = 200;        // the routes' protocol number (rtm_protocol), directord's own
    std::string vrrpInstance;  // also only while this instance is MASTER (active/backup with BGP)
    Location where;
    bool operator==(const AnnounceConfig&) const = default;
};

// Mail alerts (keepalived's notification_email and smtp_*): sent to `to` through `server` on the
// transitions of the instances, groups, virtual servers and real servers whose smtp_alert is on.
struct SmtpConfig {
    std::optional<base::SocketAddress> server;  // none: no mail
    Duration connectTimeout = 30s;              // keepalived's smtp_connect_timeout
    std::string heloName;                       // empty: the host name
    std::string from;                           // empty: directord@<host name>
    std::vector<std::string> to;
    bool starttls = true;  // when the server offers it (keepalived: never)
    bool operator==(const SmtpConfig&) const = default;
};

struct StatusConfig {
    std::optional<base::SocketAddress> listen;  // HTTP listener for /status (JSON) and /metrics
    bool operator==(const StatusConfig&) const = default;
};

struct GlobalConfig {
    std::string routerId;  // empty: the host name
    std::string scriptUser = "nobody";
    bool scriptSecurity = true;
    bool allowEmpty = false;  // a reload may define nothing (else refused)
    UserspaceLimits userspace;
    std::string notifyFifo;
    std::string logLevel = "info";
    LogTarget logTarget = LogTarget::Stderr;
    std::string pidFile = "/run/directord.pid";
    // keepalived's net_namespace: the daemon runs in the network namespace /run/netns/NAME (as
    // `ip netns add` makes them); empty: where it was started
    std::string netNamespace;
    std::string controlSocket = "/run/directord.sock";
    std::string stateDumpFile = "/run/directord.json";
    DataPlane dataPlane = DataPlane::Auto;
    FlushOnStop flushOnStop = FlushOnStop::Created;
    Duration resyncInterval = 10s;
    // keepalived's vrrp_startup_delay and vrrp_delay_after_boot: no instance becomes master before
    // this long after start, or before the host has been up this long (the longer counts)
    Duration vrrpStartupDelay{};
    Duration vrrpDelayAfterBoot{};
    IpvsTimeouts ipvsTimeouts;
    SyncDaemonConfig syncDaemon;
    SnmpConfig snmp;
    StatusConfig status;
    NftablesConfig nftables;
    AnnounceConfig announce;
    SmtpConfig smtp;
    bool operator==(const GlobalConfig&) const = default;
};

struct VrrpScript {
    std::string name;
    Command command;
    Duration interval = 1s;
    Duration timeout = 2s;
    int weight = 0;  // added to the priority while the script succeeds (>0) or fails (<0)
    int rise = 1;
    int fall = 1;
    // keepalived's init_fail: failed until `rise` successes (else: up until `fall` failures); not
    // for a restarted worker, whose instances resume as they were
    bool initFail = false;
    std::string user;  // empty: global.script_user
    Location where;
    bool operator==(const VrrpScript&) const = default;
};

// keepalived's virtual_routes: added when the instance becomes MASTER, removed when it leaves.
struct VirtualRoute {
    base::IpPrefix to;                    // the destination (0.0.0.0/0, ::/0: default)
    std::optional<base::IpAddress> via;   // the gateway
    std::optional<base::IpAddress> src;   // the preferred source
    std::string dev;                      // empty: the instance's interface (with a gateway: the kernel's choice)
    int table = 0;                        // 0: main
    std::optional<int> metric;
    std::string scope;                    // empty: the kernel's choice
    std::string type = "unicast";         // unicast, blackhole, unreachable, prohibit
    bool operator==(const VirtualRoute&) const = default;
};

// keepalived's virtual_rules / static_rules: a policy routing rule (`ip rule`): packets from `from`
// (to `to`, in on `iif`, out on `oif`, with a mark, a TOS) look up `table`, or are dropped
// (blackhole, unreachable, prohibit). With neither from nor to, `family` says which rule list.
struct VirtualRule {
    base::Family family = base::Family::V4;
    std::optional<base::IpPrefix> from, to;
    std::optional<std::uint32_t> priority;  // the rule's preference; none: the kernel's
    int table = 0;                 // action "table": the table looked up (required)
    std::string action = "table";  // table, blackhole, unreachable, prohibit
    std::optional<std::uint32_t> fwmark;
    std::optional<std::uint32_t> fwmask;
    std::string iif, oif;
    std::optional<int> tos;
    bool operator==(const VirtualRule&) const = default;
};

struct VirtualAddress {
    base::IpPrefix prefix;
    std::string dev;  // empty: the instance's interface
    std::string scope = "global";
    std::string label;
    bool operator==(const VirtualAddress&) const = default;
};

struct TrackInterface {
    std::string interface;
    int weight = 0;  // 0: link down puts the instance in FAULT
    bool operator==(const TrackInterface&) const = default;
};

// keepalived's track_file: a file whose number moves real servers' weights (file checks) and
// instances' priorities (track_files); healthcheck/TrackedFile.h has the rules.
struct TrackFile {
    std::string name;
    std::string path;
    std::int64_t weight = 1;  // the value is multiplied by it; 0: the value is a status
    bool reverse = false;     // multiplied by -1 too (weight 0: zero fails)
    std::optional<std::int64_t> initValue;  // written at start when the file is missing
    bool initOverwrite = false;             // ... or always
    Location where;
    bool operator==(const TrackFile&) const = default;
};

// keepalived's bfd_instance: a BFD session (RFC 5880 asynchronous mode, RFC 5881 single-hop or
// RFC 5883 multihop) with a neighbor; `bfd` checks follow it (healthcheck/BfdEngine.h).
struct BfdInstance {
    std::string name;
    std::optional<base::IpAddress> neighbor;  // required
    std::optional<base::IpAddress> source;
    Duration minRx = std::chrono::milliseconds(10);   // Required Min RX
    Duration minTx = std::chrono::milliseconds(10);   // Desired Min TX while Up
    Duration idleTx = std::chrono::seconds(1);        // Desired Min TX while not Up (>= 1 s)
    int multiplier = 5;                               // Detect Mult
    bool passive = false;                             // wait for the neighbor's first packet
    int ttl = 255;                                    // TTL / hop limit sent
    int maxHops = 0;                                  // received TTL + max_hops >= ttl; -1: any
    bool multihop = false;                            // RFC 5883, port 4784
    int weight = 0;        // what instances' track_bfds add (keepalived's rule), unless they say
    bool reverse = false;  // ... counted the other way round
    Location where;
    bool operator==(const BfdInstance&) const = default;
};

// An instance's track_bfds entry (keepalived's track_bfd); weight and reverse default to the BFD
// instance's own.
struct TrackBfdRef {
    std::string bfd;
    std::optional<int> weight;
    std::optional<bool> reverse;
    Location where;
    bool operator==(const TrackBfdRef&) const = default;
};

// keepalived's vrrp_track_process: how many processes of one kind run, known from the kernel's
// process events (director/vrrp/ProcessWatch.h), never by polling. Up while quorum <= count <=
// quorum_max.
struct TrackProcess {
    enum class ParamMatch { None, Exact, Partial, Initial };
    std::string name;
    std::string process;              // the process name (/proc/PID/comm), or argv[0] with full_command
    std::vector<std::string> params;  // the arguments that must follow argv[0] (implies full_command)
    ParamMatch paramMatch = ParamMatch::None;  // None: arguments are not looked at
    bool fullCommand = false;                  // match argv[0] of the command line, not the name
    int quorum = 1;                            // fewest processes that count as up
    std::optional<int> quorumMax;              // most (none: no limit; 0: up while none runs)
    Duration forkDelay{0};                     // a quorum reached by a fork counts after this
    Duration terminateDelay{0};                // a quorum lost by an exit counts after this
    int weight = 0;        // instances' track_processes: 0: not up is FAULT; >0 added while up, <0 while not
    bool reverse = false;  // ... counted the other way round
    Location where;
    bool operator==(const TrackProcess&) const = default;
};

// An instance's track_processes entry; weight and reverse default to the track process's own.
struct TrackProcessRef {
    std::string process;
    std::optional<int> weight;
    std::optional<bool> reverse;
    Location where;
    bool operator==(const TrackProcessRef&) const = default;
};

// An instance's track_files entry; weight and reverse default to the track file's own.
struct TrackFileRef {
    std::string file;
    std::optional<int> weight;
    std::optional<bool> reverse;
    Location where;
    bool operator==(const TrackFileRef&) const = default;
};

struct TrackScript {
    std::string script;
    std::optional<int> weight;  // overrides the script's own weight
    Location where;
    bool operator==(const TrackScript&) const = default;
};

struct GarpConfig {
    Duration masterDelay = 5s;  // second burst this long after becoming master
    int masterRepeat = 5;
    Duration masterRefresh{};  // 0: no periodic refresh
    int masterRefreshRepeat = 1;
    Duration interval{};  // between two gratuitous ARPs / NAs of one burst
    // a master hearing a lower-priority master (keepalived's garp_lower_prio_*): this many per
    // address at once and again after the delay (unset: master_repeat, master_delay)
    std::optional<int> lowerPrioRepeat;
    std::optional<Duration> lowerPrioDelay;
    // as master, another host's claim of a VIP (ARP, NA) is answered with lower_prio_repeat announcements
    // once its claims stop, unless a router heard outranks us (not keepalived's: Instance::heardClaim)
    bool defend = true;
    bool operator==(const GarpConfig&) const = default;
};

// keepalived's use_vmac: the VIPs live on a macvlan of the instance's interface whose MAC is the
// VRRP virtual MAC (00:00:5e:00:01:VRID, IPv6 00:00:5e:00:02:VRID), so a failover moves no MAC in
// the switches and the clients' ARP caches stay right.
struct VmacConfig {
    bool enabled = false;
    std::string name;       // empty: keepalived's (vrrp.VRID; conf::vmacNames)
    bool xmitBase = false;  // adverts go from the interface itself (keepalived's vmac_xmit_base)
    bool operator==(const VmacConfig&) const = default;
};

struct NotifyConfig {
    Command master, backup, fault, stop, generic;
    bool operator==(const NotifyConfig&) const = default;
};

// The VRRPv2 authentication type, with its value on the wire (RFC 2338; keepalived).
enum class AuthType : std::uint8_t { None = 0, Pass = 1, Ah = 2 };

// keepalived 2.4's auth_hmac: an HMAC-SHA256-128 trailer (28 bytes) after every advert, v2 and v3,
// IPv4 and IPv6 (vrrp/AuthHmac.h). Keys are 32..64 bytes, inline (`hex:...` or text), from a file
// (keepalived's file:PATH) or a systemd credential; read when the config is loaded.
struct HmacKey {
    int id = 0;              // 1..255
    std::string value;       // inline, as written ("hex:..." or the text itself)
    std::string file;        // or this file's contents (same forms, trailing CR/LF dropped)
    std::string credential;  // or $CREDENTIALS_DIRECTORY/NAME (systemd's LoadCredential=)
    std::vector<std::uint8_t> bytes;  // the key, resolved at load
    bool operator==(const HmacKey&) const = default;
};
enum class HmacMode { Enforce, Permissive, ReceiveOnly };
struct AuthHmac {
    bool enabled = false;
    std::vector<HmacKey> keys;
    int activeKey = 0;               // the key adverts are signed with; any configured key is accepted
    bool antiReplayTime = true;      // false: monotonic (sequence only, no clock window)
    std::optional<int> timeWindow;   // seconds; none: 3 x advert_interval (whole s) within 5..300
    HmacMode mode = HmacMode::Enforce;
    bool operator==(const AuthHmac&) const = default;
};

// A second path for an instance's adverts (directord's own): the same adverts also go out on
// `interface`, multicast or to its unicast peers, and what arrives there counts as on the instance's
// own link. A backup declares the master down only when every path has been silent for the
// master-down interval, so one lost link between the directors is no split brain.
struct AdvertPath {
    std::string interface;
    std::vector<base::IpAddress> unicastPeers;      // none: multicast on `interface`
    std::optional<base::IpAddress> unicastSource;   // none: the interface's primary address
    bool operator==(const AdvertPath&) const = default;
};

struct VrrpInstance {
    std::string name;
    std::string interface;
    int vrid = 0;
    int priority = 100;
    Duration advertInterval = 1s;
    int version = 2;
    base::Family family = base::Family::V4;
    bool initialMaster = false;  // state = "MASTER" hint
    bool nopreempt = false;
    // keepalived's dont_track_primary: the instance's own interface going down is not a FAULT
    // (two directors cabled to each other on it: the peer's side going down must not move them)
    bool dontTrackPrimary = false;
    Duration preemptDelay{};
    AuthType authType = AuthType::None;
    std::string authPassword;
    AuthHmac authHmac;
    std::vector<VirtualAddress> virtualAddresses;
    std::vector<VirtualAddress> excludedAddresses;
    std::optional<base::IpAddress> unicastSource;
    std::vector<base::IpAddress> unicastPeers;
    std::vector<AdvertPath> advertPaths;
    // unicast: the TTL / hop limit adverts are sent with (default 255) and, when set, the one they
    // must arrive with (peers on the link; keepalived's unicast_ttl)
    std::optional<int> unicastTtl;
    // keepalived's unicast_fault_no_peer: with no unicast peers the instance is FAULT, never multicast
    bool unicastFaultNoPeer = false;
    std::vector<TrackInterface> trackInterfaces;
    std::vector<TrackScript> trackScripts;
    std::vector<TrackFileRef> trackFiles;
    std::vector<TrackBfdRef> trackBfds;
    std::vector<TrackProcessRef> trackProcesses;
    std::vector<VirtualRoute> virtualRoutes;
    std::vector<VirtualRule> virtualRules;
    GarpConfig garp;
    VmacConfig vmac;
    NotifyConfig notify;
    Command notifyMasterRxLowerPri;  // run when this master hears a lower-priority master (keepalived's)
    bool acceptMode = true;  // false (no_accept): a non-owner master drops traffic for its VIPs (nftables)
    bool smtpAlert = false;  // mail on MASTER, BACKUP, FAULT, stop (global.smtp)
    bool checksumPseudoHeader = true;  // v3 over IPv4: include the pseudo-header (keepalived's way)
    bool lowerPrioNoAdvert = false;    // a master does not answer a lower priority master's advert
    bool higherPrioSendAdvert = true;  // a master sends one advert before yielding to a higher one
    Location where;
    bool operator==(const VrrpInstance&) const = default;
};

struct SyncGroup {
    std::string name;
    std::vector<std::string> members;
    NotifyConfig notify;
    bool smtpAlert = false;
    Location where;
    bool operator==(const SyncGroup&) const = default;
};

enum class CheckType { Tcp, Http, Https, Script, Udp, Dns, Smtp, Ping, File, Grpc, Bfd };
using kmod::Forwarding;
using kmod::TunnelChecksum;
using kmod::TunnelType;

struct StatusRange {
    int low = 200, high = 299;
    bool operator==(const StatusRange&) const = default;
};

// One health check. Timing fields left unset inherit the virtual server's.
struct CheckConfig {
    CheckType type = CheckType::Tcp;
    std::optional<Duration> delayLoop, connectTimeout, delayBeforeRetry, warmup;
    std::optional<int> retry;
    int rise = 1;
    int fall = 1;
    std::optional<base::IpAddress> connectIp;
    std::optional<int> connectPort;
    std::optional<base::IpAddress> bindIp;
    // tcp-, udp-based checks (keepalived's bind_port, bind_if, fwmark): the source port (0: any),
    // the interface the socket is bound to (SO_BINDTODEVICE; also a link-local target's scope) and
    // the mark its packets carry (SO_MARK, for policy routing)
    int bindPort = 0;
    std::string bindInterface;
    std::uint32_t fwmark = 0;
    // every failed attempt is logged, not only transitions (keepalived's log_all_failures)
    bool logAllFailures = false;
    // http, https
    std::string path = "/";
    std::vector<StatusRange> statusCodes = {StatusRange{}};
    std::string digest;  // MD5 of the body, lower-case hex, as keepalived's genhash prints
    std::string regex;          // PCRE2, as keepalived's
    std::vector<std::string> regexOptions;  // keepalived's regex_options names (caseless, multiline, ...)
    std::int64_t regexMinOffset = 0;        // the match starts at this body offset or later
    std::optional<std::int64_t> regexMaxOffset;  // ... and at this offset or before
    bool regexHeaders = false;  // the subject is the response's head, then its body (keepalived's)
    bool regexNoMatch = false;  // healthy when the regex does not match
    std::string virtualhost;    // empty: the virtual server's virtualhost
    std::string httpVersion = "1.0";
    int maxBody = 1048576;
    std::optional<Duration> readTimeout;  // unset: connect_timeout
    bool http2 = false;                   // HTTP/2: prior knowledge over TCP, ALPN h2 over TLS
    // grpc: gRPC's health service (grpc.health.v1.Health/Check) for this service name ("": the
    // server's overall health), over TLS with `tls` (and the https settings below)
    std::string grpcService;
    bool tls = false;
    // https (and grpc with tls)
    std::string sni;  // empty: the virtualhost, if any
    bool verify = false;
    std::string caFile, certFile, keyFile;
    // script
    Command command;
    std::string user;  // empty: global.script_user
    std::optional<Duration> timeout;
    bool dynamicWeight = false;
    // udp (keepalived's UDP_CHECK): the datagram sent (empty: a fixed 32-byte filler), whether a
    // reply is required, the bytes it must start with (mask bit 1: that bit is not compared, from
    // hex "X" nibbles) and its length bounds
    std::string payload;
    bool requireReply = false;
    std::string reply, replyMask;
    int minReplyLength = 0, maxReplyLength = 255;
    // dns (keepalived's DNS_CHECK): the question asked (name "" or "." is the root)
    std::string queryName;
    std::string queryType = "SOA";
    // smtp (keepalived's SMTP_CHECK): the name sent with HELO
    std::string heloName = "smtpchecker.directord";
    // file (keepalived's FILE_CHECK): a `track_files` name; weight and reverse default to its own
    std::string trackFile;
    std::optional<std::int64_t> fileWeight;
    std::optional<bool> fileReverse;
    // bfd (keepalived's BFD_CHECK): a `bfd_instances` name; up while that session is Up
    std::string bfd;
    Location where;
    bool operator==(const CheckConfig&) const = default;
};

struct Tunnel {
    TunnelType type = TunnelType::Ipip;
    int port = 0;
    TunnelChecksum checksum = TunnelChecksum::NoCsum;
    bool operator==(const Tunnel&) const = default;
};

struct RealServer {
    base::IpAddress address;
    int port = 0;
    int weight = 1;
    int upperThreshold = 0;
    int lowerThreshold = 0;
    std::optional<Forwarding> forwarding;  // overrides the virtual server's
    std::optional<bool> inhibitOnFailure;  // overrides the virtual server's
    std::optional<Duration> slowStart;     // overrides the virtual server's
    Command notifyUp, notifyDown;
    bool smtpAlert = true;  // mail on up and down (keepalived's default for real servers)
    std::vector<CheckConfig> checks;
    Location where;
    bool operator==(const RealServer&) const = default;
};

struct SorryServer {
    base::IpAddress address;
    int port = 0;
    int weight = 1;
    std::optional<Forwarding> forwarding;
    bool operator==(const SorryServer&) const = default;
};

struct VirtualServer {
    std::optional<base::IpAddress> address;  // unset for fwmark services
    int port = 0;
    std::string protocol = "tcp";  // tcp, udp, sctp
    std::uint32_t fwmark = 0;
    base::Family family = base::Family::V4;
    std::string scheduler = "wlc";
    bool schedFallback = false;  // sh/mh flag: fallback
    bool schedPort = false;      // sh/mh flag: port
    Forwarding forwarding = Forwarding::Masq;
    Tunnel tunnel;
    int persistenceTimeout = 0;   // 0: not persistent
    int persistenceNetmask = -1;  // prefix length; -1: the full length of the family
    std::string persistenceEngine;
    bool onePacket = false;
    int quorum = 1;
    int hysteresis = 0;
    Command quorumUp, quorumDown;
    std::optional<SorryServer> sorryServer;
    bool inhibitOnFailure = false;
    bool alpha = false;
    bool omega = false;
    bool haSuspend = false;
    bool smtpAlert = false;  // mail when quorum is lost or gained
    std::string virtualhost;
    Duration delayLoop = 60s;
    Duration connectTimeout = 5s;
    int retry = 1;
    Duration delayBeforeRetry = 1s;
    Duration warmup{};
    Duration slowStart{};  // a recovered or re-enabled real server's weight ramps up over this; 0: at once
    std::vector<RealServer> realServers;
    Location where;

    int netmaskPrefix() const {
        return persistenceNetmask >= 0 ? persistenceNetmask : family == base::Family::V4 ? 32 : 128;
    }
    // "10.0.0.1:80/tcp", "[2001:db8::1]:53/udp", "fwmark 1" (ipv6 marked).
    std::string str() const;
    bool operator==(const VirtualServer&) const = default;
};

struct Config {
    std::string file;  // the main file, as given
    GlobalConfig global;
    std::vector<VrrpScript> vrrpScripts;
    std::vector<TrackFile> trackFiles;
    std::vector<TrackProcess> trackProcesses;
    std::vector<BfdInstance> bfdInstances;
    std::vector<VirtualAddress> staticAddresses;  // keepalived's static_ipaddress: present while directord runs
    std::vector<VirtualRoute> staticRoutes;  // keepalived's static_routes: present while directord runs
    std::vector<VirtualRule> staticRules;    // keepalived's static_rules: present while directord runs
    std::vector<VrrpInstance> vrrpInstances;
    std::vector<SyncGroup> syncGroups;
    std::vector<VirtualServer> virtualServers;
    bool operator==(const Config& o) const {
        return global == o.global && vrrpScripts == o.vrrpScripts && vrrpInstances == o.vrrpInstances &&
               syncGroups == o.syncGroups && virtualServers == o.virtualServers;
    }
};

const char* name(DataPlane v);
// A rule as `ip rule` shows it: "from 10.0.0.0/24 lookup 100", "to 10.1.0.0/16 fwmark 0x7 blackhole".
std::string ruleText(const VirtualRule& r);
const char* name(FlushOnStop v);
const char* name(CheckType v);
// The config language's names: "nat" "dr" "tun", "ipip" "gue" "gre", "nocsum" "csum" "remcsum".
const char* name(Forwarding v);
const char* name(TunnelType v);
const char* name(TunnelChecksum v);
const char* name(AuthType v);
std::string realServerStr(const RealServer& rs);

// Nothing directord would do (no virtual server, VRRP instance, static address or route): an
// empty or cut-short file, most likely.
inline bool definesNothing(const Config& c) {
    return c.virtualServers.empty() && c.vrrpInstances.empty() && c.staticAddresses.empty() && c.staticRoutes.empty() &&
           c.staticRules.empty();
}

}  // namespace conf
