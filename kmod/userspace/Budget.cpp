#include "kmod/userspace/Budget.h"

#include <sys/resource.h>

#include <algorithm>

#include "base/Log.h"

namespace kmod::userspace {

void Budget::configure(const ForwardingLimits& l) {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    // 256 descriptors stay for listeners, the sync sockets, the channel, logging
    const std::uint64_t fds = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<std::uint64_t>(rl.rlim_cur);
    const std::uint64_t spare = fds > 512 ? fds - 256 : fds / 2;
    std::lock_guard lock(mutex_);
    udp_.limit = l.udpFlows ? l.udpFlows : std::max<std::uint64_t>(16, spare / 3);
    udp_.perSource = l.udpFlowsPerSource ? l.udpFlowsPerSource : std::max<std::uint64_t>(8, udp_.limit / 16);
    tcp_.limit = l.tcpConnections ? l.tcpConnections : std::max<std::uint64_t>(8, spare * 2 / 3 / 6);
    tcp_.perSource = l.tcpConnectionsPerSource ? l.tcpConnectionsPerSource : std::max<std::uint64_t>(8, tcp_.limit / 8);
    unanswered_.store(l.udpUnansweredTimeout, std::memory_order_relaxed);
    progress_.store(l.tcpProgressTimeout, std::memory_order_relaxed);
    tcpLimit_.store(tcp_.limit, std::memory_order_relaxed);
    const int v4 = l.sourcePrefixV4 ? l.sourcePrefixV4 : 32, v6 = l.sourcePrefixV6 ? l.sourcePrefixV6 : 64;
    if (v4 != prefixV4_ || v6 != prefixV6_) {  // the shares count by other keys now: start them over
        udp_.bySource.clear();
        tcp_.bySource.clear();
    }
    prefixV4_ = v4;
    prefixV6_ = v6;
}

bool Budget::take(Kind& k, const base::IpAddress& client, const char* what) {
    std::lock_guard lock(mutex_);
    const base::IpAddress source = client.masked(client.isV6() ? prefixV6_ : prefixV4_);
    auto& mine = k.bySource[source];
    const std::uint64_t used = k.used.load(std::memory_order_relaxed);
    const bool total = used >= k.limit;
    // crowded: the last quarter goes to prefixes that hold nothing yet (a flood from many
    // sources stops at three quarters; a new client still gets in)
    const bool crowded = used * 4 >= k.limit * 3 && mine > 0;
    if (total || mine >= k.perSource || crowded) {
        if (mine == 0) k.bySource.erase(source);
        k.refused.fetch_add(1, std::memory_order_relaxed);
        if (!k.said.exchange(true))
            base::log::warning(
                "userspace plane: ", what, " limit reached (",
                total     ? std::to_string(k.limit) + " in all"
                : crowded ? "three quarters of " + std::to_string(k.limit) + " in use: the rest is kept for new clients"
                          : std::to_string(k.perSource) + " from " + source.str() + "/" +
                                std::to_string(client.isV6() ? prefixV6_ : prefixV4_),
                "): new ones are refused and counted until some end (raise it in global.userspace, or"
                " LimitNOFILE; said once)");
        return false;
    }
    ++mine;
    k.used.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void Budget::give(Kind& k, const base::IpAddress& client) {
    std::lock_guard lock(mutex_);
    const base::IpAddress source = client.masked(client.isV6() ? prefixV6_ : prefixV4_);
    auto it = k.bySource.find(source);
    if (it != k.bySource.end() && --it->second == 0) k.bySource.erase(it);  // (none: counted before a prefix change)
    k.used.fetch_sub(1, std::memory_order_relaxed);
}

bool Budget::takeUdp(const base::IpAddress& source) { return take(udp_, source, "UDP flow"); }
void Budget::giveUdp(const base::IpAddress& source) { give(udp_, source); }
bool Budget::takeTcp(const base::IpAddress& source) { return take(tcp_, source, "TCP connection"); }
void Budget::giveTcp(const base::IpAddress& source) { give(tcp_, source); }

ForwardingCounters Budget::counters() const {
    std::lock_guard lock(mutex_);
    ForwardingCounters c;
    c.udpFlows = udp_.used.load();
    c.udpRefused = udp_.refused.load();
    c.udpLimit = udp_.limit;
    c.udpPerSource = udp_.perSource;
    c.tcpConnections = tcp_.used.load();
    c.tcpRefused = tcp_.refused.load();
    c.tcpLimit = tcp_.limit;
    c.tcpPerSource = tcp_.perSource;
    return c;
}

}  // namespace kmod::userspace
