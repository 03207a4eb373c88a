// ipvsadm 1.31's command line as tables: the options (short and long names, whether they take an
// argument, which command or option bit each one is), the command x option legality matrix
// (ipvsadm.c's commands_v_options) and the tunnel type x tunnel option matrix, then the checks
// ipvsadm makes after them, in its order. tests/fixtures/ipvsadm/matrix.txt holds what Debian's
// ipvsadm answers to every command with every option (recorded in the IPVS VM); the unit test
// replays it. Like ipvsadm's fail(), a problem ends the parse at once: it is thrown as a Failure
// inside the Parser and returned from parseIpvsadm as an error, never past it.
#include <arpa/inet.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "kmod/ipvsadm/Ipvsadm.h"

namespace kmod::ipvsadm {
namespace {

// ---- the tables ----

enum Opt : int {
    kNumeric, kConnection, kService, kScheduler, kPersistent, kNetmask, kServer, kForward, kWeight, kUThreshold,
    kLThreshold, kMcast, kTimeout, kDaemon, kStats, kRate, kThresholds, kPersistentConn, kNoSort, kSyncId, kExact,
    kOps, kPe, kSchedFlags, kMcastGroup, kMcastPort, kMcastTtl, kSyncMaxlen, kTunInfo, kTunType, kTunPort,
    kTunNoCsum, kTunCsum, kTunRemCsum, kOptCount
};
constexpr std::array<const char*, kOptCount> kOptNames = {
    "numeric", "connection", "service-address", "scheduler", "persistent", "netmask", "real-server",
    "forwarding-method", "weight", "u-threshold", "l-threshold", "mcast-interface", "timeout", "daemon", "stats",
    "rate", "thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "sched-flags", "mcast-group",
    "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type", "tun-port", "tun-nocsum", "tun-csum",
    "tun-remcsum"};

enum Cmd : int {
    kAdd, kEdit, kDel, kFlush, kList, kAddDest, kDelDest, kEditDest, kSetTimeouts, kStartDaemon, kStopDaemon,
    kRestore, kSave, kZero, kCmdCount
};
constexpr std::array<const char*, kCmdCount> kCmdNames = {
    "add-service", "edit-service", "delete-service", "flush", "list", "add-server", "delete-server", "edit-server",
    "set", "start-daemon", "stop-daemon", "restore", "save", "zero"};
constexpr std::array<IpvsadmCommand::Kind, kCmdCount> kKinds = {
    IpvsadmCommand::Kind::AddService, IpvsadmCommand::Kind::EditService, IpvsadmCommand::Kind::DelService,
    IpvsadmCommand::Kind::Clear,      IpvsadmCommand::Kind::List,        IpvsadmCommand::Kind::AddDest,
    IpvsadmCommand::Kind::DelDest,    IpvsadmCommand::Kind::EditDest,    IpvsadmCommand::Kind::SetTimeouts,
    IpvsadmCommand::Kind::StartDaemon, IpvsadmCommand::Kind::StopDaemon, IpvsadmCommand::Kind::Restore,
    IpvsadmCommand::Kind::Save,       IpvsadmCommand::Kind::Zero};

// '+' compulsory, 'x' illegal, '1' at most one of the '1's, ' ' optional; columns as kOptNames.
// clang-format off
constexpr std::array<const char*, kCmdCount> kLegal = {
    //  -n-c svc-s-p-M-r fwd-w-x-y mc tot dmn st rt thr pc srt sid ex ops pe b grp port ttl size tinf ttyp tprt tnoc tcsm trem
    /*add-service*/    "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /*edit-service*/   "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /*delete-service*/ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*flush*/          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*list*/           " 11xxxxxxxxx11       xxxxxxx xxxxx",
    /*add-server*/     "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /*delete-server*/  "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*edit-server*/    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /*set*/            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*start-daemon*/   "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
    /*stop-daemon*/    "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
    /*restore*/        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*save*/           " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*zero*/           "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};
// clang-format on

// The tunnel options against the tunnel type (tunnel_types_v_options): tun-port, tun-nocsum,
// tun-csum, tun-remcsum.
constexpr std::array<Opt, 4> kTunOpts = {kTunPort, kTunNoCsum, kTunCsum, kTunRemCsum};
constexpr std::array<const char*, 3> kTunLegal = {/*ipip*/ "xxxx", /*gue*/ "+111", /*gre*/ "x11x"};
constexpr std::array<const char*, 3> kTunNames = {"ipip", "gue", "gre"};

enum class Arg { None, Required, Optional };
enum Tag : int {
    // commands first (their Cmd value), then these
    kTagHelp = 100, kTagVersion, kTagTcp, kTagUdp, kTagSctp, kTagFwmark, kTagIpv6, kTagMasq, kTagIpip,
    kTagGatewaying, kTagSort,
};
struct OptionSpec {
    char shortName;  // 0: long only
    const char* longName;
    Arg arg;
    bool command;
    int id;  // a Cmd (command), an Opt, or a Tag
};
constexpr OptionSpec kOptions[] = {
    {'A', "add-service", Arg::None, true, kAdd},
    {'E', "edit-service", Arg::None, true, kEdit},
    {'D', "delete-service", Arg::None, true, kDel},
    {'C', "clear", Arg::None, true, kFlush},
    {'L', "list", Arg::None, true, kList},
    {'l', "list", Arg::None, true, kList},
    {'Z', "zero", Arg::None, true, kZero},
    {'a', "add-server", Arg::None, true, kAddDest},
    {'e', "edit-server", Arg::None, true, kEditDest},
    {'d', "delete-server", Arg::None, true, kDelDest},
    {0, "set", Arg::None, true, kSetTimeouts},
    {'h', "help", Arg::None, true, kTagHelp},
    {'v', "version", Arg::None, true, kTagVersion},
    {'R', "restore", Arg::None, true, kRestore},
    {'S', "save", Arg::None, true, kSave},
    {0, "start-daemon", Arg::Required, true, kStartDaemon},
    {0, "stop-daemon", Arg::Required, true, kStopDaemon},
    {'t', "tcp-service", Arg::Required, false, kTagTcp},
    {'u', "udp-service", Arg::Required, false, kTagUdp},
    {0, "sctp-service", Arg::Required, false, kTagSctp},
    {'f', "fwmark-service", Arg::Required, false, kTagFwmark},
    {'s', "scheduler", Arg::Required, false, kScheduler},
    {'p', "persistent", Arg::Optional, false, kPersistent},
    {'M', "netmask", Arg::Required, false, kNetmask},
    {'r', "real-server", Arg::Required, false, kServer},
    {'m', "masquerading", Arg::None, false, kTagMasq},
    {'i', "ipip", Arg::None, false, kTagIpip},
    {'g', "gatewaying", Arg::None, false, kTagGatewaying},
    {'w', "weight", Arg::Required, false, kWeight},
    {'x', "u-threshold", Arg::Required, false, kUThreshold},
    {'y', "l-threshold", Arg::Required, false, kLThreshold},
    {'n', "numeric", Arg::None, false, kNumeric},
    {'c', "connection", Arg::None, false, kConnection},
    {0, "mcast-interface", Arg::Required, false, kMcast},
    {0, "syncid", Arg::Required, false, kSyncId},
    {0, "timeout", Arg::None, false, kTimeout},
    {0, "daemon", Arg::None, false, kDaemon},
    {0, "stats", Arg::None, false, kStats},
    {0, "rate", Arg::None, false, kRate},
    {0, "thresholds", Arg::None, false, kThresholds},
    {0, "persistent-conn", Arg::None, false, kPersistentConn},
    {0, "nosort", Arg::None, false, kNoSort},
    {0, "sort", Arg::None, false, kTagSort},
    {'X', "exact", Arg::None, false, kExact},
    {'6', "ipv6", Arg::None, false, kTagIpv6},
    {'o', "ops", Arg::None, false, kOps},
    {0, "pe", Arg::Required, false, kPe},
    {'b', "sched-flags", Arg::Required, false, kSchedFlags},
    {0, "mcast-group", Arg::Required, false, kMcastGroup},
    {0, "mcast-port", Arg::Required, false, kMcastPort},
    {0, "mcast-ttl", Arg::Required, false, kMcastTtl},
    {0, "sync-maxlen", Arg::Required, false, kSyncMaxlen},
    {0, "tun-info", Arg::None, false, kTunInfo},
    {0, "tun-type", Arg::Required, false, kTunType},
    {0, "tun-port", Arg::Required, false, kTunPort},
    {0, "tun-nocsum", Arg::None, false, kTunNoCsum},
    {0, "tun-csum", Arg::None, false, kTunCsum},
    {0, "tun-remcsum", Arg::None, false, kTunRemCsum},
};

// The option bit each tag sets (the service kinds share one bit, as do the forwarding methods).
int bitOf(int id) {
    switch (id) {
    case kTagTcp:
    case kTagUdp:
    case kTagSctp:
    case kTagFwmark: return kService;
    case kTagMasq:
    case kTagIpip:
    case kTagGatewaying: return kForward;
    case kTagIpv6:
    case kTagSort: return -1;
    default: return id < kOptCount ? id : -1;
    }
}

// ---- values ----

// ipvsadm's string_to_number: the whole text, base 10, within [lo, hi]; -1 otherwise.
long number(const std::string& s, long lo, long hi) {
    if (s.empty()) return -1;
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(s.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || n < lo || n > hi) return -1;
    return n;
}

// ipvsadm's parse_service: "addr:port", "[v6]:port" or the address alone; false when not one.
bool parseService(const std::string& text, base::IpAddress& addr, std::uint16_t& port, bool& hasPort) {
    if (text.empty() || text.find_first_not_of("0123456789") == std::string::npos) return false;
    std::string host = text, p;
    hasPort = false;
    if (text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
        host = text.substr(1, close - 1);
        p = text.substr(close + 2);
        hasPort = true;
    } else if (!base::IpAddress::parse(text) || !base::IpAddress::parse(text)->isV6()) {
        if (const auto colon = text.rfind(':'); colon != std::string::npos) {
            host = text.substr(0, colon);
            p = text.substr(colon + 1);
            hasPort = true;
        }
    }
    const auto a = base::IpAddress::parse(host);
    if (!a) return false;
    addr = *a;
    if (hasPort) {
        const long n = number(p, 0, 65535);
        if (n < 0) return false;
        port = static_cast<std::uint16_t>(n);
    }
    return true;
}

struct Failure {
    std::string message;
    int status = 2;
};

// ---- the parser ----

class Parser {
public:
    Parser(const std::vector<std::string>& args, const char* program) : args_(args), program_(program) {}

    std::optional<IpvsadmCommand> run(Failure& f) {
        try {
            parse();
            check();
            return c_;
        } catch (Failure& e) {
            f = std::move(e);
            return std::nullopt;
        }
    }

private:
    [[noreturn]] void fail(std::string message, int status = 2) { throw Failure{std::move(message), status}; }
    [[noreturn]] void tryHelp() {
        fail(std::string("Try `") + program_ + " -h' or '" + program_ + " --help' for more information.", 255);
    }

    void setOption(int bit) {
        if (bit < 0) return;
        if (options_ & (1ull << bit)) fail(std::string("multiple '") + kOptNames[bit] + "' options specified");
        options_ |= 1ull << bit;
    }
    bool has(int bit) const { return options_ & (1ull << bit); }

    // The next option: its spec, its argument, and the token as written (for messages).
    struct Found {
        const OptionSpec* spec;
        std::optional<std::string> arg;
        std::string token;
    };
    std::optional<Found> next() {
        while (pos_ < args_.size() || !cluster_.empty()) {
            if (!cluster_.empty()) return shortOption();
            const std::string& a = args_[pos_++];
            if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
                const auto eq = a.find('=');
                const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
                const OptionSpec* spec = nullptr;
                for (const auto& o : kOptions)
                    if (name == o.longName) spec = &o;
                if (!spec) tryHelp();
                Found f{spec, std::nullopt, a};
                if (eq != std::string::npos) f.arg = a.substr(eq + 1);
                else if (spec->arg == Arg::Required) f.arg = take();
                else if (spec->arg == Arg::Optional && pos_ < args_.size() && args_[pos_][0] != '-') f.arg = args_[pos_++];
                return f;
            }
            if (a.size() >= 2 && a[0] == '-' && a != "--") {
                cluster_ = a.substr(1);
                return shortOption();
            }
            positional_.push_back(a);
        }
        return std::nullopt;
    }
    std::optional<Found> shortOption() {
        const char ch = cluster_[0];
        cluster_.erase(0, 1);
        const OptionSpec* spec = nullptr;
        for (const auto& o : kOptions)
            if (o.shortName == ch) spec = &o;
        if (!spec) tryHelp();
        Found f{spec, std::nullopt, std::string("-") + ch};
        if (spec->arg != Arg::None) {
            if (!cluster_.empty()) {
                f.arg = cluster_;  // -w5
                cluster_.clear();
            } else if (spec->arg == Arg::Required) {
                f.arg = take();
            } else if (pos_ < args_.size() && !args_[pos_].empty() && args_[pos_][0] != '-') {
                f.arg = args_[pos_++];
            }
        }
        return f;
    }
    std::string take() {
        if (pos_ >= args_.size()) tryHelp();  // popt: a missing argument
        return args_[pos_++];
    }

    void parse() {
        c_.dest.weight = 1;
        c_.dest.forwarding = Forwarding::Route;  // ipvsadm's default: direct routing
        if (args_.empty()) {  // ipvsadm alone lists
            cmd_ = kList;
            c_.kind = IpvsadmCommand::Kind::List;
            return;
        }
        auto first = next();
        if (!first || !first->spec->command) tryHelp();
        command(*first);
        while (auto f = next()) {
            if (f->spec->command) fail("invalid option `" + f->token + "'");
            option(*f);
        }
        if (cmd_ == kSetTimeouts) {
            if (positional_.size() < 3) fail("--set option requires 3 timeout values");
            std::array<std::uint32_t, 3> t{};
            for (size_t i = 0; i < 3; ++i) t[i] = timeout(positional_[i], 0);
            c_.timeouts = Timeouts{t[0], t[1], t[2]};
            positional_.erase(positional_.begin(), positional_.begin() + 3);
        }
        if (!positional_.empty()) fail("unexpected argument " + positional_.front());
        if (schedFlags_) {
            c_.service.flags &= ~(kSvcSched1 | kSvcSched2 | kSvcSched3);
            c_.service.flags |= schedulerFlags(*schedFlags_);
        }
    }

    void command(const Found& f) {
        const int id = f.spec->id;
        if (id == kTagHelp || id == kTagVersion) {
            c_.kind = id == kTagHelp ? IpvsadmCommand::Kind::Help : IpvsadmCommand::Kind::Version;
            help_ = true;
            return;
        }
        cmd_ = id;
        c_.kind = kKinds[static_cast<size_t>(id)];
        if (id == kStartDaemon || id == kStopDaemon) {
            if (*f.arg == "master") c_.daemon.state = SyncDaemon::kMaster;
            else if (*f.arg == "backup") c_.daemon.state = SyncDaemon::kBackup;
            else fail(id == kStartDaemon ? "illegal start-daemon parameter specified" : "illegal start_daemon specified");
        }
    }

    std::uint32_t timeout(const std::string& s, long lo) {
        const long n = number(s, lo, INT_MAX / 1000);  // MAX_TIMEOUT
        if (n < 0) fail("invalid timeout value `" + s + "' specified");
        return static_cast<std::uint32_t>(n);
    }

    std::uint32_t schedulerFlags(const std::string& text) {
        const std::string sched = c_.service.scheduler.empty() ? "wlc" : c_.service.scheduler;
        std::uint32_t flags = 0;
        std::istringstream in(text);
        std::string f;
        while (std::getline(in, f, ',')) {
            if (f == "flag-1") flags |= kSvcSched1;
            else if (f == "flag-2") flags |= kSvcSched2;
            else if (f == "flag-3") flags |= kSvcSched3;
            else if (f == "sh-fallback" || f == "sh-port" || f == "mh-fallback" || f == "mh-port") {
                if (sched != f.substr(0, 2)) fail("incompatible scheduler flag `" + f + "'");
                flags |= f.ends_with("fallback") ? kSvcSched1 : kSvcSched2;
            } else {
                fail("invalid scheduler flag `" + f + "'");
            }
        }
        return flags;
    }

    void option(const Found& f) {
        const int id = f.spec->id;
        setOption(bitOf(id));
        const std::string& v = f.arg ? *f.arg : empty_;
        switch (id) {
        case kTagTcp:
        case kTagUdp:
        case kTagSctp: {
            base::IpAddress addr;
            std::uint16_t port = 0;
            bool hasPort = false;
            if (!parseService(v, addr, port, hasPort)) fail("illegal virtual server address[:port] specified");
            c_.service.key = ServiceKey::inet(addr, id == kTagTcp ? kTcp : id == kTagUdp ? kUdp : kSctp, port);
            if (addr.isV6()) c_.service.netmask = 128;
            c_.hasService = true;
            break;
        }
        case kTagFwmark: {
            const long n = number(v, 1, UINT_MAX >> 1);
            if (n < 0) fail("invalid fwmark value `" + v + "' specified");
            c_.service.key = ServiceKey::mark(base::Family::V4, static_cast<std::uint32_t>(n));
            c_.hasService = true;
            break;
        }
        case kTagIpv6:
            if (!c_.service.key.isFwmark()) fail("-6 used before -f\n");
            c_.service.key = ServiceKey::mark(base::Family::V6, c_.service.key.fwmark);
            c_.service.netmask = 128;
            break;
        case kScheduler: c_.service.scheduler = v; break;
        case kPersistent:
            c_.service.flags |= kSvcPersistent;
            c_.service.timeout = f.arg ? timeout(v, 1) : 300;
            break;
        case kNetmask:
            if (c_.service.key.family() != base::Family::V6) {
                in_addr m{};
                if (inet_pton(AF_INET, v.c_str(), &m) != 1) fail("illegal virtual server persistent mask specified");
                c_.service.netmask = ntohl(m.s_addr);
            } else {
                const int n = std::atoi(v.c_str());
                if (n < 1 || n > 128) fail("illegal ipv6 netmask specified");
                c_.service.netmask = static_cast<std::uint32_t>(n);
            }
            break;
        case kServer:
            if (!parseService(v, c_.dest.key.address, c_.dest.key.port, destHasPort_))
                fail("illegal real server address[:port] specified");
            if (!destHasPort_) c_.dest.key.port = c_.service.key.port;
            break;
        case kTagMasq: c_.dest.forwarding = Forwarding::Masq; break;
        case kTagIpip: c_.dest.forwarding = Forwarding::Tunnel; break;
        case kTagGatewaying: c_.dest.forwarding = Forwarding::Route; break;
        case kWeight:
        case kUThreshold:
        case kLThreshold: {
            const long n = number(v, 0, INT_MAX);
            if (n < 0)
                fail(id == kWeight       ? "illegal weight specified"
                     : id == kUThreshold ? "illegal u_threshold specified"
                                         : "illegal l_threshold specified");
            (id == kWeight ? c_.dest.weight : id == kUThreshold ? c_.dest.upperThreshold : c_.dest.lowerThreshold) =
                static_cast<std::uint32_t>(n);
            break;
        }
        case kConnection: c_.connections = true; break;
        case kNumeric: break;
        case kMcast: c_.daemon.interface = v; break;
        case kSyncId: {
            const long n = number(v, 0, 255);
            if (n < 0) fail("illegal syncid specified");
            c_.daemon.syncId = static_cast<std::uint32_t>(n);
            break;
        }
        case kTimeout: c_.showTimeouts = true; break;
        case kDaemon: c_.showDaemons = true; break;
        case kStats: c_.list.format = ListFormat::Stats; break;
        case kRate: c_.list.format = ListFormat::Rate; break;
        case kThresholds: c_.list.format = ListFormat::Thresholds; break;
        case kPersistentConn: c_.list.format = ListFormat::PersistentConn; break;
        case kTunInfo: c_.list.format = ListFormat::TunInfo; break;
        case kNoSort: c_.nosort = true; break;
        case kTagSort: break;
        case kExact: c_.list.exact = true; break;
        case kOps: c_.service.flags |= kSvcOnePacket; break;
        case kPe: c_.service.peName = v; break;
        case kSchedFlags: schedFlags_ = v; break;
        case kMcastGroup: {
            const auto g = base::IpAddress::parse(v);
            const bool v6 = v.find(':') != std::string::npos;
            if (!g || g->isV6() != v6 || !g->isMulticast())
                fail(std::string("invalid ") + (v6 ? "IPv6" : "IPv4") + " mcast-group `" + v + "'");
            c_.daemon.group = *g;
            break;
        }
        case kMcastPort: {
            const long n = number(v, 1, 65535);
            if (n < 0) fail("illegal mcast-port specified");
            c_.daemon.port = static_cast<std::uint16_t>(n);
            break;
        }
        case kMcastTtl: {
            const long n = number(v, 1, 255);
            if (n < 0) fail("illegal mcast-ttl specified");
            c_.daemon.ttl = static_cast<std::uint8_t>(n);
            break;
        }
        case kSyncMaxlen: {
            const long n = number(v, 1, 65535 - 20 - 8);
            if (n < 0) fail("illegal sync-maxlen specified");
            c_.daemon.maxLen = static_cast<std::uint16_t>(n);
            break;
        }
        case kTunType:
            if (v == "ipip") c_.dest.tunnelType = TunnelType::Ipip;
            else if (v == "gue") c_.dest.tunnelType = TunnelType::Gue;
            else if (v == "gre") c_.dest.tunnelType = TunnelType::Gre;
            else fail("illegal tunnel type specified");
            break;
        case kTunPort: {
            const long n = number(v, 1, 65535);
            if (n < 0) fail("illegal tunnel port specified");
            c_.dest.tunnelPort = static_cast<std::uint16_t>(n);
            break;
        }
        case kTunNoCsum: c_.dest.tunnelFlags = TunnelChecksum::NoCsum; break;
        case kTunCsum: c_.dest.tunnelFlags = TunnelChecksum::Csum; break;
        case kTunRemCsum: c_.dest.tunnelFlags = TunnelChecksum::RemCsum; break;
        default: break;
        }
    }

    // generic_opt_check, then the command's own rules, in ipvsadm's order.
    void check() {
        if (help_ || cmd_ < 0) return;
        const char* legal = kLegal[static_cast<size_t>(cmd_)];
        const std::string cmd = kCmdNames[static_cast<size_t>(cmd_)];
        int exclusive = -1;
        for (int j = 0; j < kOptCount; ++j) {
            const char rule = legal[j];
            if (!has(j)) {
                if (rule == '+')
                    fail(std::string("You need to supply the '") + kOptNames[j] + "' option for the '" + cmd + "' command");
                continue;
            }
            if (rule == 'x') fail(std::string("Illegal '") + kOptNames[j] + "' option with the '" + cmd + "' command");
            if (rule == '1') {
                if (exclusive >= 0)
                    fail(std::string("The option '") + kOptNames[j] + "' conflicts with the '" + kOptNames[exclusive] +
                         "' option in the '" + cmd + "' command");
                exclusive = j;
            }
        }
        if (cmd_ == kAddDest || cmd_ == kEditDest) checkTunnel();
        if (cmd_ == kAdd || cmd_ == kEdit) {
            if (!c_.service.key.isFwmark() && c_.service.key.port == 0 && !(c_.service.flags & kSvcPersistent))
                fail("Zero port specified for non-persistent service");
            if ((c_.service.flags & kSvcOnePacket) && !c_.service.key.isFwmark() && c_.service.key.protocol != kUdp)
                fail("One-Packet Scheduling is only for UDP virtual services");
            if (c_.service.scheduler.empty()) c_.service.scheduler = "wlc";
        }
        if (cmd_ == kStartDaemon && c_.daemon.interface.empty()) c_.daemon.interface = "eth0";
        if (cmd_ == kAddDest || cmd_ == kEditDest) {
            // direct routing and tunnelling keep the service's port (fwmark services: any)
            if (!c_.service.key.isFwmark() &&
                (c_.dest.forwarding == Forwarding::Tunnel || c_.dest.forwarding == Forwarding::Route))
                c_.dest.key.port = c_.service.key.port;
            if (c_.dest.key.address.family() != c_.service.key.family() && c_.dest.forwarding != Forwarding::Tunnel)
                fail("Different address family is allowed only for tunneling servers");
        }
        if (cmd_ == kList) {
            const bool what = has(kConnection) || has(kTimeout) || has(kDaemon);
            const bool format = has(kStats) || has(kRate) || has(kThresholds);
            if ((what && format) || ((has(kTimeout) || has(kDaemon)) && has(kPersistentConn)))
                fail("options conflicts in the list command");
            if (c_.hasService) c_.list.only = c_.service.key;
        }
    }

    void checkTunnel() {
        const bool any = has(kTunType) || has(kTunPort) || has(kTunNoCsum) || has(kTunCsum) || has(kTunRemCsum);
        if (!any) return;
        if (c_.dest.forwarding != Forwarding::Tunnel) fail("Tunnel options conflict with forward method");
        const auto type = static_cast<size_t>(c_.dest.tunnelType);
        const char* legal = kTunLegal[type];
        const std::string name = kTunNames[type];
        int exclusive = -1;
        for (size_t k = 0; k < kTunOpts.size(); ++k) {
            const int j = kTunOpts[k];
            if (!has(j)) {
                if (legal[k] == '+')
                    fail(std::string("You need to supply the '") + kOptNames[j] + "' option for the '" + name +
                         "' tunnel type");
                continue;
            }
            if (legal[k] == 'x')
                fail(std::string("Illegal '") + kOptNames[j] + "' option with the '" + name + "' tunnel type");
            if (legal[k] == '1') {
                if (exclusive >= 0)
                    fail(std::string("The option '") + kOptNames[j] + "' conflicts with the '" + kOptNames[exclusive] +
                         "' option in the '" + name + "' tunnel type");
                exclusive = j;
            }
        }
    }

    const std::vector<std::string>& args_;
    const char* program_;
    size_t pos_ = 0;
    std::string cluster_;
    std::vector<std::string> positional_;
    IpvsadmCommand c_;
    int cmd_ = -1;
    bool help_ = false;
    std::uint64_t options_ = 0;
    bool destHasPort_ = false;
    std::optional<std::string> schedFlags_;
    const std::string empty_;
};

}  // namespace

std::optional<IpvsadmCommand> parseIpvsadm(const std::vector<std::string>& args, std::string& error, int* status,
                                           const char* program) {
    Failure f;
    auto c = Parser(args, program).run(f);
    if (!c) {
        error = f.message;
        if (status) *status = f.status;
    }
    return c;
}

}  // namespace kmod::ipvsadm
