#include "director/vrrp/ProcessWatch.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>

#include "base/Log.h"

namespace director::vrrp {

namespace {

// The whole of a small /proc file (at most `cap` bytes); empty when it cannot be read.
std::string slurp(const std::string& path, std::size_t cap) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string out(cap, '\0');
    std::size_t got = 0;
    while (got < cap) {
        const ssize_t n = ::read(fd, out.data() + got, cap - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

constexpr std::size_t kCmdlineCap = 4096;
constexpr std::size_t kEventHead = offsetof(proc_event, event_data);  // what, cpu, timestamp

// /proc/PID/stat: "PID (comm) S ...": the name, unless the process is a zombie (or gone).
std::optional<std::string> liveComm(pid_t pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat", 512);
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open || close + 2 >= stat.size())
        return std::nullopt;
    if (stat[close + 2] == 'Z' || stat[close + 2] == 'X') return std::nullopt;
    return stat.substr(open + 1, close - open - 1);
}

std::string joined(const std::vector<std::string>& params) {
    std::string out;
    for (const auto& p : params) out += p + '\0';
    return out;
}

}  // namespace

bool processMatches(const conf::TrackProcess& t, const ProcessImage& p) {
    using M = conf::TrackProcess::ParamMatch;
    if (!t.fullCommand) return p.comm == t.process;
    const auto end0 = p.cmdline.find('\0');
    const std::string_view argv0 = std::string_view(p.cmdline).substr(0, end0);
    if (argv0 != t.process) return false;
    if (t.paramMatch == M::None) return true;
    const std::string_view args =
        end0 == std::string::npos ? std::string_view{} : std::string_view(p.cmdline).substr(end0 + 1);
    const std::string want = joined(t.params);  // "a\0b\0"
    switch (t.paramMatch) {
    case M::Exact: return args == want;
    case M::Partial: return args.substr(0, want.size()) == want;
    case M::Initial:  // the last argument may be longer than the one configured
        return want.empty() || args.substr(0, want.size() - 1) == std::string_view(want).substr(0, want.size() - 1);
    case M::None: break;
    }
    return true;
}

ProcessWatch::ProcessWatch(asio::io_context& io, Changed changed) : io_(io), changed_(std::move(changed)) {}

ProcessWatch::~ProcessWatch() {
    *alive_ = false;
    stop();
}

void ProcessWatch::stop() {
    if (socket_) {
        boost::system::error_code ec;
        socket_->close(ec);
        socket_.reset();
    }
    kinds_.clear();
    byPid_.clear();
}

namespace {
int preopened = -1;
}

void preopenProcessEvents(int fd) { preopened = fd; }

int openProcessEvents(std::string& why) {
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (fd < 0) {
        why = std::string("the process events connector: socket: ") + std::strerror(errno) +
              (errno == EPROTONOSUPPORT ? " (a kernel without CONFIG_PROC_EVENTS)" : "");
        return -1;
    }
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = CN_IDX_PROC;
    const int size = 1 << 20;  // bursts of forks (a build, a restart storm) before we read
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        why = std::string("the process events connector: bind: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    // nlmsghdr, cn_msg, then the operation: listen
    char msg[NLMSG_SPACE(sizeof(cn_msg) + sizeof(std::uint32_t))]{};
    auto* nl = reinterpret_cast<nlmsghdr*>(msg);
    nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(std::uint32_t));
    nl->nlmsg_type = NLMSG_DONE;
    auto* cn = reinterpret_cast<cn_msg*>(msg + NLMSG_LENGTH(0));
    cn->id.idx = CN_IDX_PROC;
    cn->id.val = CN_VAL_PROC;
    cn->len = sizeof(std::uint32_t);
    const std::uint32_t op = PROC_CN_MCAST_LISTEN;
    std::memcpy(cn->data, &op, sizeof op);
    if (::send(fd, msg, nl->nlmsg_len, 0) < 0) {
        why = std::string("the process events connector: subscribe: ") + std::strerror(errno) +
              (errno == ECONNREFUSED ? " (it exists in the initial network namespace only, and directord runs in "
                                       "another: start it in the host's and set global.net_namespace, which opens "
                                       "the connector before entering the namespace)"
                                     : "");
        ::close(fd);
        return -1;
    }
    return fd;
}

bool ProcessWatch::open(std::string& why) {
    const int fd = preopened >= 0 ? ::fcntl(preopened, F_DUPFD_CLOEXEC, 0) : openProcessEvents(why);
    if (fd < 0) {
        if (why.empty()) why = std::string("the process events connector: dup: ") + std::strerror(errno);
        return false;
    }
    socket_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    buffer_.resize(64 * 1024);
    receive();
    return true;
}

void ProcessWatch::receive() {
    socket_->async_wait(asio::posix::stream_descriptor::wait_read,
                        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
                            auto a = alive.lock();
                            if (!a || !*a || ec || !socket_) return;
                            bool lost = false;
                            for (;;) {
                                sockaddr_nl from{};
                                socklen_t fromLen = sizeof from;
                                const ssize_t n = ::recvfrom(socket_->native_handle(), buffer_.data(), buffer_.size(),
                                                             0, reinterpret_cast<sockaddr*>(&from), &fromLen);
                                if (n > 0) {
                                    if (from.nl_pid == 0) handle(buffer_.data(), static_cast<std::size_t>(n));
                                    else ++foreign_;  // only the kernel speaks for processes
                                    continue;
                                }
                                if (n < 0 && errno == EINTR) continue;
                                if (n < 0 && errno == ENOBUFS) {
                                    lost = true;
                                    continue;
                                }
                                break;  // EAGAIN: all read
                            }
                            if (lost) {
                                ++rescans_;
                                base::log::warning("vrrp: track_process: process events were lost (a burst larger "
                                                   "than the socket's buffer); counting again from /proc");
                                rescan();
                            }
                            receive();
                        });
}

void ProcessWatch::handle(const char* data, std::size_t len) {
    for (std::size_t off = 0; off + sizeof(nlmsghdr) <= len;) {
        nlmsghdr nl;
        std::memcpy(&nl, data + off, sizeof nl);
        if (nl.nlmsg_len < sizeof(nlmsghdr) || off + nl.nlmsg_len > len) return;  // malformed: drop the rest
        const std::size_t body = NLMSG_LENGTH(0);
        if (nl.nlmsg_type != NLMSG_ERROR && nl.nlmsg_type != NLMSG_NOOP &&
            nl.nlmsg_len >= body + sizeof(cn_msg) + kEventHead) {
            cn_msg cn;
            std::memcpy(&cn, data + off + body, sizeof cn);
            // a kernel's proc_event may be shorter or longer than these headers' (its union grows):
            // what it sent is copied into a zeroed one, and each event needs its own fields whole
            const std::size_t have = std::min<std::size_t>(cn.len, nl.nlmsg_len - body - sizeof(cn_msg));
            if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC && have >= kEventHead) {
                proc_event ev{};
                std::memcpy(&ev, data + off + body + sizeof(cn_msg), std::min(have, sizeof ev));
                const std::size_t need = kEventHead + (ev.what == proc_event::PROC_EVENT_FORK   ? sizeof ev.event_data.fork
                                                       : ev.what == proc_event::PROC_EVENT_EXEC ? sizeof ev.event_data.exec
                                                       : ev.what == proc_event::PROC_EVENT_COMM ? sizeof ev.event_data.comm
                                                       : ev.what == proc_event::PROC_EVENT_EXIT ? 8  // pid, tgid
                                                                                                : 0);
                if (have < need) {
                    ++malformed_;
                    off += NLMSG_ALIGN(nl.nlmsg_len);
                    continue;
                }
                ++events_;
                switch (ev.what) {
                case proc_event::PROC_EVENT_FORK:
                    if (ev.event_data.fork.child_pid == ev.event_data.fork.child_tgid)  // a process, not a thread
                        forked(ev.event_data.fork.parent_tgid, ev.event_data.fork.child_pid);
                    break;
                case proc_event::PROC_EVENT_EXEC:
                    if (ev.event_data.exec.process_pid == ev.event_data.exec.process_tgid)
                        readProcess(ev.event_data.exec.process_pid, nullptr);
                    break;
                case proc_event::PROC_EVENT_COMM:
                    if (ev.event_data.comm.process_pid == ev.event_data.comm.process_tgid) {
                        const std::string comm(ev.event_data.comm.comm,
                                               strnlen(ev.event_data.comm.comm, sizeof ev.event_data.comm.comm));
                        readProcess(ev.event_data.comm.process_pid, &comm);
                    }
                    break;
                case proc_event::PROC_EVENT_EXIT:
                    if (ev.event_data.exit.process_pid == ev.event_data.exit.process_tgid)
                        exited(ev.event_data.exit.process_pid);
                    break;
                default: break;
                }
            }
        }
        off += NLMSG_ALIGN(nl.nlmsg_len);
    }
}

bool ProcessWatch::needCmdline() const {
    for (const auto& [n, k] : kinds_)
        if (k.cfg.fullCommand) return true;
    return false;
}

// An exec or a name change: the process is read again and counted where it now matches. A name
// change (comm given) leaves the command-line kinds alone, as keepalived does.
void ProcessWatch::readProcess(pid_t pid, const std::string* comm) {
    ProcessImage img;
    if (comm) img.comm = *comm;
    else if (auto c = liveComm(pid)) img.comm = *c;
    else return;
    const bool cmd = !comm && needCmdline();
    if (cmd) img.cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline", kCmdlineCap);
    for (auto& [name, k] : kinds_) {
        if (k.cfg.fullCommand && !cmd) continue;
        const bool now = processMatches(k.cfg, img);
        const bool was = k.pids.contains(pid);
        if (now == was) continue;
        if (now) {
            k.pids.insert(pid);
            byPid_[pid].insert(name);
        } else {
            k.pids.erase(pid);
            if (auto it = byPid_.find(pid); it != byPid_.end()) {
                it->second.erase(name);
                if (it->second.empty()) byPid_.erase(it);
            }
        }
        update(k, Cause::Other);
    }
}

void ProcessWatch::forked(pid_t parent, pid_t child) {
    auto it = byPid_.find(parent);
    if (it == byPid_.end()) return;
    const std::set<std::string> names = it->second;
    for (const auto& name : names) {
        auto k = kinds_.find(name);
        if (k == kinds_.end()) continue;
        k->second.pids.insert(child);
        byPid_[child].insert(name);
        update(k->second, Cause::Fork);
    }
}

void ProcessWatch::exited(pid_t pid) {
    auto it = byPid_.find(pid);
    if (it == byPid_.end()) return;
    const std::set<std::string> names = std::move(it->second);
    byPid_.erase(it);
    for (const auto& name : names) {
        auto k = kinds_.find(name);
        if (k == kinds_.end()) continue;
        k->second.pids.erase(pid);
        update(k->second, Cause::Exit);
    }
}

bool ProcessWatch::wanted(const Kind& k) const {
    const bool none = k.cfg.quorumMax && *k.cfg.quorumMax == 0;
    const auto n = static_cast<long long>(k.pids.size());
    return n >= (none ? 0 : k.cfg.quorum) && n <= k.cfg.quorumMax.value_or(INT_MAX);
}

// keepalived's delays: a change a fork caused counts after fork_delay, one an exit caused after
// terminate_delay; a change back within the delay cancels it (a restart is no flap).
void ProcessWatch::update(Kind& k, Cause cause) {
    if (wanted(k) == k.up) {
        k.delay.reset();
        return;
    }
    const base::Duration d = cause == Cause::Fork ? k.cfg.forkDelay : cause == Cause::Exit ? k.cfg.terminateDelay
                                                                                         : base::Duration::zero();
    if (d <= base::Duration::zero()) return settle(k);
    if (k.delay) return;  // already waiting to settle
    k.delay = std::make_unique<asio::steady_timer>(io_, d);
    k.delay->async_wait([this, name = k.cfg.name, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        auto a = alive.lock();
        if (!a || !*a || ec) return;
        if (auto it = kinds_.find(name); it != kinds_.end()) settle(it->second);
    });
}

void ProcessWatch::settle(Kind& k) {
    k.delay.reset();
    const bool now = wanted(k);
    if (now == k.up) return;
    k.up = now;
    base::log::notice("vrrp: track_process ", k.cfg.name, ": ", k.pids.size(), " '", k.cfg.process,
                      "' process(es) running, ", now ? "up" : "down", " (quorum ",
                      k.cfg.quorumMax && *k.cfg.quorumMax == 0 ? 0 : k.cfg.quorum, "..",
                      k.cfg.quorumMax ? std::to_string(*k.cfg.quorumMax) : std::string("any"), ")");
    if (!quiet_) changed_(k.cfg.name, now);
}

// Counts every kind again from /proc (at start, after a reload that adds kinds, after lost events).
void ProcessWatch::rescan() {
    for (auto& [name, k] : kinds_) k.pids.clear();
    byPid_.clear();
    const bool cmd = needCmdline();
    DIR* d = ::opendir("/proc");
    if (!d) return;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        const pid_t pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
        auto comm = liveComm(pid);
        if (!comm) continue;
        ProcessImage img{*comm, cmd ? slurp("/proc/" + std::to_string(pid) + "/cmdline", kCmdlineCap) : std::string()};
        for (auto& [name, k] : kinds_)
            if (processMatches(k.cfg, img)) {
                k.pids.insert(pid);
                byPid_[pid].insert(name);
            }
    }
    ::closedir(d);
    for (auto& [name, k] : kinds_) settle(k);
}

bool ProcessWatch::configure(const std::vector<conf::TrackProcess>& kinds, std::string& why) {
    auto same = [](conf::TrackProcess a, conf::TrackProcess b) {
        a.where = b.where = {};
        return a == b;
    };
    std::map<std::string, Kind> next;
    bool fresh = false;
    for (const auto& def : kinds) {
        Kind& k = next[def.name];
        auto old = kinds_.find(def.name);
        if (old != kinds_.end() && same(old->second.cfg, def)) {
            k = std::move(old->second);
            k.cfg = def;
        } else {
            k.cfg = def;
            fresh = true;
        }
    }
    kinds_ = std::move(next);
    if (kinds_.empty()) {
        stop();
        return true;
    }
    bool ok = true;
    if (!socket_) ok = open(why);
    if (fresh || !ok) {
        // new kinds start at what /proc says (the caller applies every instance's tracking next)
        quiet_ = true;
        rescan();
        quiet_ = false;
    } else {
        // kept kinds keep their processes; drop what no kind counts any more
        for (auto it = byPid_.begin(); it != byPid_.end();) {
            std::erase_if(it->second, [&](const std::string& n) { return !kinds_.contains(n); });
            it = it->second.empty() ? byPid_.erase(it) : std::next(it);
        }
    }
    return ok;
}

bool ProcessWatch::up(const std::string& name) const {
    auto it = kinds_.find(name);
    return it != kinds_.end() && it->second.up;
}

int ProcessWatch::count(const std::string& name) const {
    auto it = kinds_.find(name);
    return it == kinds_.end() ? 0 : static_cast<int>(it->second.pids.size());
}

}  // namespace director::vrrp
