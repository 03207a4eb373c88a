#include "kmod/netlink/NetlinkIpvsTable.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "kmod/netlink/ProcConnections.h"

namespace kmod::netlink {

namespace {

constexpr size_t kBatchMessages = 256;  // ops per sendmsg(); their acks fit the receive buffer
constexpr int kBufferBytes = 4 << 20;

// modprobe ip_vs, as ipvsadm does when the family is missing; no shell, errors ignored.
void modprobeIpvs() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const char* argv[] = {"/sbin/modprobe", "-q", "--", "ip_vs", nullptr};
        const char* envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", nullptr};
        ::close_range(3, ~0U, 0);
        ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        ::_exit(127);
    }
    if (pid > 0) {
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
}

}  // namespace

base::Result<std::unique_ptr<NetlinkIpvsTable>> NetlinkIpvsTable::open() {
    nl_sock* sock = nl_socket_alloc();
    if (!sock) return base::errnoCode(ENOMEM);
    if (genl_connect(sock) < 0) {
        nl_socket_free(sock);
        return base::errnoCode(EPROTONOSUPPORT);
    }
    int family = genl_ctrl_resolve(sock, "IPVS");
    if (family < 0) {
        modprobeIpvs();
        family = genl_ctrl_resolve(sock, "IPVS");
    }
    if (family < 0) {
        nl_socket_free(sock);
        return base::errnoCode(ENOENT);
    }
    nl_socket_set_buffer_size(sock, kBufferBytes, kBufferBytes);
    // A reply that never comes is an error, not a hang (the kernel answers in microseconds).
    timeval tv{10, 0};
    ::setsockopt(nl_socket_get_fd(sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return std::unique_ptr<NetlinkIpvsTable>(new NetlinkIpvsTable(sock, family));
}

NetlinkIpvsTable::NetlinkIpvsTable(nl_sock* sock, int family)
    : sock_(sock), fd_(nl_socket_get_fd(sock)), family_(static_cast<std::uint16_t>(family)),
      portId_(nl_socket_get_local_port(sock)), seq_(static_cast<std::uint32_t>(::time(nullptr))), rx_(1 << 17) {}

NetlinkIpvsTable::~NetlinkIpvsTable() { nl_socket_free(sock_); }

std::error_code NetlinkIpvsTable::sendAll(const std::uint8_t* data, size_t len) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    while (true) {
        const ssize_t n = ::sendto(fd_, data, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
        if (n == static_cast<ssize_t>(len)) return {};
        if (n < 0 && errno == EINTR) continue;
        return base::errnoCode(n < 0 ? errno : EMSGSIZE);
    }
}

std::error_code NetlinkIpvsTable::request(std::uint8_t cmd, const netlink::Bytes& attrs, bool dump, const OnReply& onReply) {
    const std::uint32_t seq = ++seq_;
    const auto msg =
        netlink::message(family_, cmd, static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0)), seq,
                    portId_, attrs);
    if (auto ec = sendAll(msg.data(), msg.size())) return ec;
    ++sent_;
    while (true) {
        const ssize_t n = ::recv(fd_, rx_.data(), rx_.size(), MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            return base::errnoCode(errno == EAGAIN ? ETIMEDOUT : errno);
        }
        if (static_cast<size_t>(n) > rx_.size()) {  // a bigger reply than the buffer: grow and ask again
            rx_.resize(static_cast<size_t>(n) * 2);
            return base::errnoCode(EMSGSIZE);
        }
        const auto msgs = netlink::splitMessages({rx_.data(), static_cast<size_t>(n)});
        if (!msgs) return base::errnoCode(EBADMSG);
        for (const auto& m : *msgs) {
            if (m.header.seq != seq) continue;  // a stray reply to an earlier request
            if (m.header.type == NLMSG_DONE) return {};
            if (auto e = netlink::errorCode(m)) {
                if (*e != 0) return base::errnoCode(*e);
                if (!dump) return {};
                continue;
            }
            if (m.header.type != family_) continue;
            const auto attrs2 = netlink::genlAttrs(m);
            if (!attrs2 || (onReply && !onReply(*attrs2))) return base::errnoCode(EBADMSG);
        }
    }
}

ApplyResult NetlinkIpvsTable::apply(const std::vector<Op>& ops) {
    ApplyResult r;
    for (size_t start = 0; start < ops.size(); start += kBatchMessages) {
        const size_t end = std::min(ops.size(), start + kBatchMessages);
        netlink::Bytes batch;
        const std::uint32_t firstSeq = seq_ + 1;
        for (size_t i = start; i < end; ++i) {
            const auto msg =
                netlink::message(family_, netlink::commandFor(ops[i].kind), static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK),
                            ++seq_, portId_, netlink::opAttrs(ops[i]));
            batch.insert(batch.end(), msg.begin(), msg.end());
        }
        std::vector<std::optional<int>> outcome(end - start);
        std::error_code ec = sendAll(batch.data(), batch.size());
        if (!ec) sent_ += end - start;
        size_t pending = ec ? 0 : end - start;
        while (pending > 0) {
            const ssize_t n = ::recv(fd_, rx_.data(), rx_.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                ec = base::errnoCode(errno == EAGAIN ? ETIMEDOUT : errno);
                break;
            }
            const auto msgs = netlink::splitMessages({rx_.data(), static_cast<size_t>(n)});
            if (!msgs) {
                ec = base::errnoCode(EBADMSG);
                break;
            }
            for (const auto& m : *msgs) {
                const auto e = netlink::errorCode(m);
                if (!e || m.header.seq < firstSeq || m.header.seq >= firstSeq + (end - start)) continue;
                auto& slot = outcome[m.header.seq - firstSeq];
                if (!slot) {
                    slot = *e;
                    --pending;
                }
            }
        }
        for (size_t i = start; i < end; ++i) {
            const auto& o = outcome[i - start];
            if (o) r.record(i, ops[i], *o ? base::errnoCode(*o) : std::error_code{});
            else r.record(i, ops[i], ec ? ec : base::errnoCode(EIO));
        }
    }
    return r;
}

base::Result<std::vector<netlink::ServiceReply>> NetlinkIpvsTable::services() {
    std::vector<netlink::ServiceReply> out;
    const auto ec = request(netlink::kCmdGetService, {}, true, [&](const std::vector<netlink::Attr>& attrs) {
        auto s = netlink::decodeService(attrs);
        if (!s) return false;
        out.push_back(std::move(*s));
        return true;
    });
    if (ec) return ec;
    return out;
}

std::error_code NetlinkIpvsTable::dests(const ServiceKey& key, const std::function<void(netlink::DestReply&&)>& each) {
    return request(netlink::kCmdGetDest, netlink::serviceKeyAttrs(key), true, [&](const std::vector<netlink::Attr>& attrs) {
        auto d = netlink::decodeDest(attrs, key.family());
        if (!d) return false;
        each(std::move(*d));
        return true;
    });
}

base::Result<TableState> NetlinkIpvsTable::dump() {
    auto svcs = services();
    if (!svcs) return svcs.error();
    TableState t;
    order_.clear();
    for (auto& s : svcs.value()) {
        ServiceEntry& e = t.services[s.service.key];
        e.service = s.service;
        order_.emplace_back(s.service.key, std::vector<DestKey>{});
        auto& destOrder = order_.back().second;
        if (auto ec = dests(s.service.key, [&](netlink::DestReply&& d) {
                destOrder.push_back(d.dest.key);
                e.dests[d.dest.key] = d.dest;
            })) {
            if (ec.value() == ESRCH) continue;  // removed between the two dumps
            return ec;
        }
    }
    return t;
}

base::Result<TableStatus> NetlinkIpvsTable::status() {
    auto svcs = services();
    if (!svcs) return svcs.error();
    TableStatus st;
    for (auto& s : svcs.value()) {
        ServiceStatus& ss = st[s.service.key];
        ss.stats = s.status.stats;
        ss.rates = s.status.rates;
        if (auto ec = dests(s.service.key, [&](netlink::DestReply&& d) { ss.dests[d.dest.key] = d.status; })) {
            if (ec.value() == ESRCH) continue;
            return ec;
        }
    }
    return st;
}

std::error_code NetlinkIpvsTable::flush() { return request(netlink::kCmdFlush, {}, false, nullptr); }

base::Result<Timeouts> NetlinkIpvsTable::timeouts() {
    std::optional<Timeouts> t;
    const auto ec = request(netlink::kCmdGetConfig, {}, false, [&](const std::vector<netlink::Attr>& attrs) {
        t = netlink::decodeTimeouts(attrs);
        return t.has_value();
    });
    if (ec) return ec;
    if (!t) return base::errnoCode(EBADMSG);
    return *t;
}

std::error_code NetlinkIpvsTable::setTimeouts(const Timeouts& t) {
    return request(netlink::kCmdSetConfig, netlink::timeoutAttrs(t), false, nullptr);
}

base::Result<std::vector<ConnEntry>> NetlinkIpvsTable::connections() {
    std::ifstream in("/proc/net/ip_vs_conn");
    if (!in) return base::errnoCode(errno ? errno : ENOENT);
    std::stringstream ss;
    ss << in.rdbuf();
    return parseProcConnections(ss.str());
}

std::optional<PlaneInfo> NetlinkIpvsTable::info() {
    std::optional<PlaneInfo> i;
    const auto ec = request(netlink::kCmdGetInfo, {}, false, [&](const std::vector<netlink::Attr>& attrs) {
        i = netlink::decodeInfo(attrs);
        return i.has_value();
    });
    if (ec) return std::nullopt;
    return i;
}

std::error_code NetlinkIpvsTable::zero(const std::optional<ServiceKey>& only) {
    return request(netlink::kCmdZero, only ? netlink::serviceKeyAttrs(*only) : netlink::Bytes{}, false, nullptr);
}

base::Result<std::vector<SyncDaemon>> NetlinkIpvsTable::daemons() {
    std::vector<SyncDaemon> out;
    const auto ec = request(netlink::kCmdGetDaemon, {}, true, [&](const std::vector<netlink::Attr>& attrs) {
        auto d = netlink::decodeDaemon(attrs);
        if (!d) return false;
        out.push_back(std::move(*d));
        return true;
    });
    if (ec) return ec;
    return out;
}

std::error_code NetlinkIpvsTable::startDaemon(const SyncDaemon& d) {
    return request(netlink::kCmdNewDaemon, netlink::daemonAttrs(d, true), false, nullptr);
}

std::error_code NetlinkIpvsTable::stopDaemon(std::uint32_t state) {
    SyncDaemon d;
    d.state = state;
    return request(netlink::kCmdDelDaemon, netlink::daemonAttrs(d, false), false, nullptr);
}

}  // namespace kmod::netlink
