#include "kmod/userspace/UdpForwarder.h"

#include "base/AsioAddress.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include "base/Log.h"
#include "kmod/userspace/Budget.h"
#include "kmod/userspace/SyncOutbox.h"

namespace kmod::userspace {

namespace {
constexpr unsigned kBatch = 32;
constexpr size_t kMaxDatagram = 65536;

// One batch of receive buffers, reused for every read (the forwarder is single-threaded).
struct Batch {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<sockaddr_storage, kBatch> addrs{};
    std::vector<char> data = std::vector<char>(kBatch * kMaxDatagram);
    void reset() {
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {data.data() + i * kMaxDatagram, kMaxDatagram};
            msgs[i].msg_hdr = {};
            msgs[i].msg_hdr.msg_name = &addrs[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
    }
};

Batch& batch() {
    thread_local Batch b;
    return b;
}

asio::ip::udp::endpoint fromSockaddr(const sockaddr_storage& ss) {
    asio::ip::udp::endpoint ep;
    std::memcpy(ep.data(), &ss, ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    return ep;
}
}  // namespace

UdpForwarder::UdpForwarder(asio::io_context& io, ServiceKey key, Placer placer, std::chrono::seconds timeout,
                           std::shared_ptr<SyncOutbox> sync, std::shared_ptr<Budget> budget)
    : io_(io), key_(std::move(key)), placer_(std::move(placer)), timeout_(timeout), sync_(std::move(sync)),
      budget_(std::move(budget)), socket_(io), sweepTimer_(io) {}

UdpForwarder::~UdpForwarder() { stop(); }

bool UdpForwarder::open(bool logErrors) {
    const asio::ip::udp::endpoint ep(base::toAsio(key_.address), key_.port);
    boost::system::error_code ec;
    socket_.open(ep.protocol(), ec);
    const int one = 1;
    if (!ec) socket_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    if (!ec) {
        const int rc = key_.address.isV4()
                           ? ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one)
                           : ::setsockopt(socket_.native_handle(), IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
        if (rc != 0) ec = boost::system::error_code(errno, boost::system::system_category());
    }
    if (!ec) socket_.bind(ep, ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) {
        if (logErrors)
            base::log::error("userspace plane: cannot bind ", key_.str(), ": ", ec.message(),
                             "; the service gets no traffic until this is fixed (another program on the port?)");
        return false;
    }
    return true;
}

void UdpForwarder::start() {
    readClients();
    sweep();
}

void UdpForwarder::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    sweepTimer_.cancel();
    for (auto& [ep, flow] : flows_) endFlow(flow);
    for (auto& [ep, flow] : packetFlows_) endFlow(flow);
    flows_.clear();
    packetFlows_.clear();
}

std::shared_ptr<UdpForwarder::Flow> UdpForwarder::flowFor(const asio::ip::udp::endpoint& client) {
    auto it = flows_.find(client);
    if (it != flows_.end()) return it->second;
    sched::SchedPacket p;
    p.source = base::fromAsio(client.address());
    p.sourcePort = client.port();
    p.destination = key_.address;
    // a flow costs a descriptor: none left in the budget (a flood of sources), no new flow
    std::shared_ptr<BudgetHold> hold;
    if (budget_) {
        if (!budget_->takeUdp(p.source)) return nullptr;
        hold = std::make_shared<BudgetHold>(budget_, p.source, false);
    }
    auto placement = placer_(p);
    if (!placement) return nullptr;  // no destination: the datagram is dropped, as by the kernel
    if (!placement->onePacket) {
        auto flow = openFlow(client, std::move(*placement));
        if (flow) {
            flow->hold = std::move(hold);
            flows_.emplace(client, flow);
        }
        return flow;
    }
    // one-packet: this datagram was the whole connection
    placement->counters->inactive.fetch_sub(1, std::memory_order_relaxed);
    (*placement->unbind)();
    const std::pair<asio::ip::udp::endpoint, DestKey> key{client, placement->dest};
    if (auto pit = packetFlows_.find(key); pit != packetFlows_.end()) return pit->second;
    auto flow = openFlow(client, std::move(*placement));
    if (flow) {
        flow->counted = false;
        flow->hold = std::move(hold);
        packetFlows_.emplace(key, flow);
    }
    return flow;
}

std::shared_ptr<UdpForwarder::Flow> UdpForwarder::openFlow(const asio::ip::udp::endpoint& client, Placement placement) {
    auto flow = std::make_shared<Flow>(io_);
    flow->client = client;
    flow->placement = std::move(placement);
    flow->counted = !flow->placement.onePacket;
    flow->opened = flow->lastSeen = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    const asio::ip::udp::endpoint target(base::toAsio(flow->placement.dest.address), flow->placement.dest.port);
    flow->upstream.open(target.protocol(), ec);
    if (!ec) flow->upstream.connect(target, ec);
    if (!ec) flow->upstream.non_blocking(true, ec);
    if (ec) {
        flow->placement.counters->failed.fetch_add(1, std::memory_order_relaxed);
        if (flow->counted) {
            flow->placement.counters->inactive.fetch_sub(1, std::memory_order_relaxed);
            (*flow->placement.unbind)();
        }
        return nullptr;
    }
    readUpstream(flow);
    return flow;
}

// Client datagrams: read a batch, pass each to its flow's real server.
void UdpForwarder::readClients() {
    if (stopped_) return;
    auto self = shared_from_this();
    socket_.async_wait(asio::socket_base::wait_read, [self](const boost::system::error_code& ec) {
        if (ec || self->stopped_) return;
        Batch& b = batch();
        for (int round = 0; round < 8; ++round) {  // bounded: other sockets get their turn
            b.reset();
            const int n = ::recvmmsg(self->socket_.native_handle(), b.msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
            if (n <= 0) break;
            const auto now = std::chrono::steady_clock::now();
            for (int i = 0; i < n; ++i) {
                const mmsghdr& m = b.msgs[static_cast<size_t>(i)];
                if (m.msg_hdr.msg_flags & MSG_TRUNC) continue;  // larger than any UDP payload we take
                auto flow = self->flowFor(fromSockaddr(b.addrs[static_cast<size_t>(i)]));
                if (!flow) continue;
                flow->lastSeen = now;
                const ssize_t sent = ::send(flow->upstream.native_handle(), b.iov[static_cast<size_t>(i)].iov_base,
                                            m.msg_len, MSG_DONTWAIT);
                if (sent > 0) {
                    flow->placement.counters->inBytes.fetch_add(static_cast<std::uint64_t>(sent),
                                                                std::memory_order_relaxed);
                    flow->placement.counters->inPkts.fetch_add(1, std::memory_order_relaxed);
                }
                ++flow->inPkts;
                if (self->sync_ && flow->counted && self->sync_->master() && self->sync_->packetDue(flow->inPkts))
                    self->sync_->push(syncEntry(self->key_, base::fromAsio(flow->client.address()), flow->client.port(),
                                                flow->placement.dest, 0,
                                                static_cast<std::uint32_t>(self->timeout_.count()), 0));
            }
            if (static_cast<unsigned>(n) < kBatch) break;
        }
        self->readClients();
    });
}

// Replies from a real server: read a batch, send them all to the client from the VIP.
void UdpForwarder::readUpstream(const std::shared_ptr<Flow>& flow) {
    auto self = shared_from_this();
    flow->upstream.async_wait(asio::socket_base::wait_read, [self, flow](const boost::system::error_code& ec) {
        if (ec || flow->closed || self->stopped_) return;
        Batch& b = batch();
        b.reset();
        const int n = ::recvmmsg(flow->upstream.native_handle(), b.msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n > 0) {
            std::array<mmsghdr, kBatch> out{};
            std::array<iovec, kBatch> iov{};
            sockaddr_storage to{};
            std::memcpy(&to, flow->client.data(), flow->client.size());
            std::uint64_t bytes = 0;
            for (int i = 0; i < n; ++i) {
                iov[static_cast<size_t>(i)] = {b.iov[static_cast<size_t>(i)].iov_base,
                                               b.msgs[static_cast<size_t>(i)].msg_len};
                out[static_cast<size_t>(i)].msg_hdr.msg_name = &to;
                out[static_cast<size_t>(i)].msg_hdr.msg_namelen = static_cast<socklen_t>(flow->client.size());
                out[static_cast<size_t>(i)].msg_hdr.msg_iov = &iov[static_cast<size_t>(i)];
                out[static_cast<size_t>(i)].msg_hdr.msg_iovlen = 1;
                bytes += b.msgs[static_cast<size_t>(i)].msg_len;
            }
            ::sendmmsg(self->socket_.native_handle(), out.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
            flow->placement.counters->outBytes.fetch_add(bytes, std::memory_order_relaxed);
            flow->placement.counters->outPkts.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
            flow->lastSeen = std::chrono::steady_clock::now();
            flow->answered = true;
            if (flow->placement.assure) {
                flow->placement.assure();
                flow->placement.assure = nullptr;  // once is enough
            }
        }
        self->readUpstream(flow);
    });
}

void UdpForwarder::collect(std::vector<ConnEntry>& out, std::chrono::steady_clock::time_point now) const {
    auto add = [&](const Flow& f) {
        ConnEntry c;
        c.protocol = "UDP";
        c.client = base::fromAsio(f.client.address());
        c.clientPort = f.client.port();
        c.vaddr = key_.address;
        c.vport = key_.port;
        c.daddr = f.placement.dest.address;
        c.dport = f.placement.dest.port;
        c.state = "UDP";
        const auto until = f.lastSeen + timeout_;
        c.expires =
            until > now
                ? static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(until - now).count())
                : 0;
        out.push_back(std::move(c));
    };
    for (const auto& [ep, f] : flows_) add(*f);
    for (const auto& [ep, f] : packetFlows_) add(*f);
}

void UdpForwarder::endFlow(const std::shared_ptr<Flow>& flow) {
    if (flow->closed) return;
    flow->closed = true;
    boost::system::error_code ec;
    flow->upstream.close(ec);
    flow->hold.reset();
    if (!flow->counted) return;
    flow->placement.counters->inactive.fetch_sub(1, std::memory_order_relaxed);
    (*flow->placement.unbind)();
}

void UdpForwarder::sweep() {
    if (stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    // a flow its real server never answered (a spoofed source, a dead server) goes sooner
    const std::chrono::seconds unanswered(budget_ ? budget_->unansweredTimeout() : timeout_.count());
    auto expire = [&](auto& flows) {
        for (auto it = flows.begin(); it != flows.end();) {
            const Flow& f = *it->second;
            if (now - f.lastSeen >= timeout_ || (!f.answered && now - f.opened >= unanswered)) {
                endFlow(it->second);
                it = flows.erase(it);
            } else {
                ++it;
            }
        }
    };
    expire(flows_);
    expire(packetFlows_);
    auto self = shared_from_this();
    sweepTimer_.expires_after(std::chrono::milliseconds(250));
    sweepTimer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->sweep();
    });
}

}  // namespace kmod::userspace
