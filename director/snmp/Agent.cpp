#include "director/snmp/Agent.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/library/large_fd_set.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/Log.h"

namespace snmp {

// The handler's way in (net-snmp calls plain functions).
struct AgentAccess {
    static std::shared_ptr<const MibTree> tree(const Agent& a) { return a.tree(); }
    static void linked(Agent& a, bool up) { a.linked(up); }
    static void answered(Agent& a) {
        a.requests_.fetch_add(1, std::memory_order_relaxed);
        a.lastRequestNs_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    }
};

namespace {

std::vector<oid> toNetsnmp(const Oid& o) { return std::vector<oid>(o.begin(), o.end()); }

// The value's type and bytes as net-snmp's typed-value calls take them.
struct Encoded {
    u_char type = ASN_NULL;
    long integer = 0;
    u_long number = 0;
    counter64 c64{};
    std::vector<oid> oids;
    const void* data = nullptr;
    size_t size = 0;
};

void encode(const Value& v, Encoded& e) {
    switch (v.type) {
    case Value::Type::Integer:
        e.type = ASN_INTEGER;
        e.integer = static_cast<long>(v.integer);
        e.data = &e.integer;
        e.size = sizeof e.integer;
        return;
    case Value::Type::Unsigned:
    case Value::Type::Gauge:
    case Value::Type::Counter32:
    case Value::Type::TimeTicks:
        e.type = v.type == Value::Type::Unsigned    ? ASN_UNSIGNED
                 : v.type == Value::Type::Gauge     ? ASN_GAUGE
                 : v.type == Value::Type::TimeTicks ? ASN_TIMETICKS
                                                    : ASN_COUNTER;
        e.number = static_cast<u_long>(v.number);
        e.data = &e.number;
        e.size = sizeof e.number;
        return;
    case Value::Type::Counter64:
        e.type = ASN_COUNTER64;
        e.c64.high = static_cast<u_long>(v.number >> 32);
        e.c64.low = static_cast<u_long>(v.number & 0xffffffffu);
        e.data = &e.c64;
        e.size = sizeof e.c64;
        return;
    case Value::Type::OctetString:
    case Value::Type::IpAddress:
        e.type = v.type == Value::Type::IpAddress ? ASN_IPADDRESS : ASN_OCTET_STR;
        e.data = v.bytes.data();
        e.size = v.bytes.size();
        return;
    case Value::Type::ObjectId:
        e.type = ASN_OBJECT_ID;
        e.oids = toNetsnmp(v.oid);
        e.data = e.oids.data();
        e.size = e.oids.size() * sizeof(oid);
        return;
    }
}

void setValue(netsnmp_variable_list* vb, const Value& v) {
    Encoded e;
    encode(v, e);
    snmp_set_var_typed_value(vb, e.type, static_cast<const u_char*>(e.data), e.size);
}

int answer(netsnmp_mib_handler* handler, netsnmp_handler_registration* reg, netsnmp_agent_request_info* info,
           netsnmp_request_info* requests) {
    auto* self = static_cast<Agent*>(handler->myvoid);
    const auto tree = AgentAccess::tree(*self);
    const Oid root(reg->rootoid, reg->rootoid + reg->rootoid_len);
    for (auto* r = requests; r; r = r->next) {
        if (r->processed) continue;
        netsnmp_variable_list* vb = r->requestvb;
        const Oid asked(vb->name, vb->name + vb->name_length);
        switch (info->mode) {
        case MODE_GET:
            if (const Value* v = tree ? tree->get(asked) : nullptr) setValue(vb, *v);
            else netsnmp_set_request_error(info, r, SNMP_NOSUCHINSTANCE);
            break;
        case MODE_GETNEXT:
            // An inclusive search (AgentX: the range starts at an object of ours) may answer with
            // the asked object itself. Nothing after it here: the varbind stays as it is and the
            // agent asks the next subtree.
            if (const Value* v = r->inclusive && tree ? tree->get(asked) : nullptr) {
                setValue(vb, *v);
            } else if (auto n = tree ? tree->next(asked, root) : std::nullopt) {
                const auto name = toNetsnmp(n->first);
                snmp_set_var_objid(vb, name.data(), name.size());
                setValue(vb, n->second);
            }
            break;
        default:
            netsnmp_set_request_error(info, r, SNMP_ERR_NOTWRITABLE);
            break;
        }
    }
    AgentAccess::answered(*self);
    return SNMP_ERR_NOERROR;
}

// No C++ exception may cross net-snmp's C frames.
int handle(netsnmp_mib_handler* handler, netsnmp_handler_registration* reg, netsnmp_agent_request_info* info,
           netsnmp_request_info* requests) noexcept {
    try {
        return answer(handler, reg, info, requests);
    } catch (...) {
        return SNMP_ERR_GENERR;
    }
}

// net-snmp's own messages at debug level; the agent logs the connection's changes itself, once
// each. net-snmp says nothing else about the AgentX session (a subagent has internal descriptors
// too, so the select set does not tell), so its messages are where the state is learned.
int logMessage(int, int, void* serverarg, void* clientarg) noexcept try {
    auto* m = static_cast<snmp_log_message*>(serverarg);
    if (!m || !m->msg) return 0;
    std::string text(m->msg);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    base::log::debug("snmp: net-snmp: ", text);
    auto* self = static_cast<Agent*>(clientarg);
    if (text.find("AgentX subagent connected") != std::string::npos) AgentAccess::linked(*self, true);
    else if (text.find("AgentX master disconnected") != std::string::npos ||
             text.find("Failed to connect to the agentx master") != std::string::npos)
        AgentAccess::linked(*self, false);
    return 0;
} catch (...) {
    return 0;
}

// Pings and requests to the master wait at most a second, once: better to drop the session and
// reconnect than to hang on a stuck snmpd.
int setupSession(int, int, void* serverarg, void*) {
    if (auto* s = static_cast<netsnmp_session*>(serverarg)) {
        s->timeout = 1000000;
        s->retries = 0;
    }
    return 0;
}

void sendTrap(const Trap& t) {
    static const oid snmpTrapOid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
    netsnmp_variable_list* vars = nullptr;
    const auto trapOid = toNetsnmp(t.trapOid);
    snmp_varlist_add_variable(&vars, snmpTrapOid, OID_LENGTH(snmpTrapOid), ASN_OBJECT_ID,
                              reinterpret_cast<const u_char*>(trapOid.data()), trapOid.size() * sizeof(oid));
    for (const auto& [name, value] : t.vars) {
        Encoded e;
        encode(value, e);
        const auto n = toNetsnmp(name);
        snmp_varlist_add_variable(&vars, n.data(), n.size(), e.type, static_cast<const u_char*>(e.data), e.size);
    }
    send_v2trap(vars);
    snmp_free_varbind(vars);
}

}  // namespace

Agent::Agent(AgentOptions options) : options_(std::move(options)) {
    wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) {
        base::log::error("snmp: cannot start the subagent: eventfd: ", std::strerror(errno), "; no SNMP");
        return;
    }
    thread_ = std::thread([this] { run(); });
}

Agent::~Agent() {
    stop_.store(true);
    wake();
    if (thread_.joinable()) thread_.join();
    if (wakeFd_ >= 0) ::close(wakeFd_);
}

void Agent::publish(std::shared_ptr<const MibTree> tree) {
    std::lock_guard lock(mu_);
    tree_ = std::move(tree);
}

std::shared_ptr<const MibTree> Agent::tree() const {
    std::lock_guard lock(mu_);
    return tree_;
}

void Agent::trap(Trap t) {
    {
        std::lock_guard lock(mu_);
        if (traps_.size() >= 1000) traps_.pop_front();  // a master gone for long: keep the newest
        traps_.push_back(std::move(t));
    }
    wake();
}

std::chrono::steady_clock::time_point Agent::lastRequest() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(lastRequestNs_.load()));
}

void Agent::wake() {
    const std::uint64_t one = 1;
    if (wakeFd_ >= 0) (void)!::write(wakeFd_, &one, sizeof one);
}

void Agent::linked(bool up) {
    if (said_ && up == connected_.load()) return;
    said_ = true;
    connected_.store(up);
    if (up) base::log::info("snmp: AgentX subagent connected to ", options_.socket);
    else
        base::log::warning("snmp: no AgentX master at ", options_.socket, "; trying again every ",
                           options_.pingInterval.count(), " s (is snmpd running with 'master agentx' and agentXSocket ",
                           options_.socket, "?)");
}

void Agent::run() {
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);  // a subagent
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       static_cast<int>(options_.pingInterval.count()));
    netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, options_.socket.c_str());
    snmp_disable_log();
    snmp_enable_calllog();
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, logMessage, this);
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_SESSION_INIT, setupSession, nullptr);
    init_agent(options_.name.c_str());
    for (const auto& root : options_.roots) {
        netsnmp_mib_handler* h = netsnmp_create_handler(options_.name.c_str(), handle);
        h->myvoid = this;
        const auto r = toNetsnmp(root);
        netsnmp_handler_registration* reg =
            netsnmp_handler_registration_create(options_.name.c_str(), h, r.data(), r.size(), HANDLER_CAN_RONLY);
        if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK)
            base::log::error("snmp: could not register ", oidText(root), " (another subagent serves it?)");
    }
    init_snmp(options_.name.c_str());

    if (!said_) linked(false);  // no word from net-snmp: nothing there yet
    // net-snmp reads this when a session drops (the retry period); set again after init.
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       static_cast<int>(options_.pingInterval.count()));
    netsnmp_large_fd_set fds;
    netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
    while (!stop_.load()) {
        int numfds = 0, block = 0;
        timeval tv{1, 0};
        NETSNMP_LARGE_FD_ZERO(&fds);
        snmp_select_info2(&numfds, &fds, &tv, &block);
        if (block || tv.tv_sec >= 1) tv = timeval{1, 0};
        if (wakeFd_ + 1 > numfds) numfds = wakeFd_ + 1;
        NETSNMP_LARGE_FD_SET(wakeFd_, &fds);
        const int n = netsnmp_large_fd_set_select(numfds, &fds, nullptr, nullptr, &tv);
        if (n > 0 && NETSNMP_LARGE_FD_ISSET(wakeFd_, &fds)) {
            std::uint64_t drained;
            (void)!::read(wakeFd_, &drained, sizeof drained);
            NETSNMP_LARGE_FD_CLR(wakeFd_, &fds);
        }
        if (n > 0) snmp_read2(&fds);
        else if (n == 0) snmp_timeout();
        run_alarms();
        netsnmp_check_outstanding_agent_requests();
        std::deque<Trap> traps;
        {
            std::lock_guard lock(mu_);
            traps.swap(traps_);
        }
        for (const auto& t : traps) {
            if (!connected_.load()) continue;  // as keepalived: a trap with no master is lost
            sendTrap(t);
            trapsSent_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    netsnmp_large_fd_set_cleanup(&fds);
    {  // what the loop queued last (a stopping director's state changes) still goes out
        std::deque<Trap> traps;
        {
            std::lock_guard lock(mu_);
            traps.swap(traps_);
        }
        if (connected_.load())
            for (const auto& t : traps) sendTrap(t);
    }
    // snmp_shutdown() free()s the client argument of every callback still registered: take ours
    // (the Agent itself) out first.
    snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, logMessage, this, 1);
    snmp_shutdown(options_.name.c_str());
    shutdown_agent();
}

}  // namespace snmp
