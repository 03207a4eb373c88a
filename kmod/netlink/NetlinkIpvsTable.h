// NetlinkIpvsTable: the kernel's IPVS through generic netlink. libnl-genl opens the socket and
// resolves the family "IPVS"; messages are built and read by IpvsCodec. apply() sends its ops in
// batches of many messages per sendmsg() and reads the acks; each failure is the kernel's errno
// with the op that caused it.
#pragma once
#include <functional>
#include <memory>
#include <optional>

#include "kmod/IpvsTable.h"
#include "kmod/netlink/IpvsCodec.h"

struct nl_sock;

namespace kmod::netlink {

class NetlinkIpvsTable : public IpvsTable, public SyncDaemonControl {
public:
    // ENOENT when the kernel has no IPVS (the family does not resolve, even after modprobe ip_vs).
    static base::Result<std::unique_ptr<NetlinkIpvsTable>> open();
    ~NetlinkIpvsTable() override;
    NetlinkIpvsTable(const NetlinkIpvsTable&) = delete;
    NetlinkIpvsTable& operator=(const NetlinkIpvsTable&) = delete;

    std::string name() const override { return "kernel"; }
    base::Result<TableState> dump() override;
    base::Result<TableStatus> status() override;
    ApplyResult apply(const std::vector<Op>& ops) override;
    std::error_code flush() override;
    base::Result<Timeouts> timeouts() override;
    std::error_code setTimeouts(const Timeouts& t) override;
    // /proc/net/ip_vs_conn, as ipvsadm reads it
    base::Result<std::vector<ConnEntry>> connections() override;
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> lastDumpOrder() const override { return order_; }

    // Beyond the common interface: what only the kernel has.
    std::optional<PlaneInfo> info() override;
    std::error_code zero(const std::optional<ServiceKey>& only) override;
    SyncDaemonControl* syncDaemons() override { return this; }
    base::Result<std::vector<SyncDaemon>> daemons() override;
    std::error_code startDaemon(const SyncDaemon& d) override;
    std::error_code stopDaemon(std::uint32_t state) override;
    // The failing command of the last error, for messages ("new-dest: File exists").
    std::uint64_t messagesSent() const { return sent_; }

private:
    NetlinkIpvsTable(nl_sock* sock, int family);
    using OnReply = std::function<bool(const std::vector<netlink::Attr>&)>;  // false: malformed
    // One request; `onReply` sees each reply message (dumps: every part).
    std::error_code request(std::uint8_t cmd, const netlink::Bytes& attrs, bool dump, const OnReply& onReply);
    std::error_code sendAll(const std::uint8_t* data, size_t len);
    base::Result<std::vector<netlink::ServiceReply>> services();
    std::error_code dests(const ServiceKey& key, const std::function<void(netlink::DestReply&&)>& each);

    nl_sock* sock_;
    int fd_;
    std::uint16_t family_;
    std::uint32_t portId_;
    std::uint32_t seq_;
    std::uint64_t sent_ = 0;
    std::vector<std::uint8_t> rx_;
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> order_;  // the kernel's, from the last dump
};

}  // namespace kmod::netlink
