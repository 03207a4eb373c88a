// RemotePlane: the userspace plane's PlaneLink when forwarding runs in the forwarding worker
// (docs/ARCHITECTURE.md, process model). The lvs worker's UserspaceIpvsTable sends each table as
// a TableMsg; counters and connections come back in PlaneReportMsgs that refresh() asks for (a
// control request waits for the answer, or for one second when the forwarding worker is
// restarting, and then answers with what it last heard). Sync daemons are started and stopped by
// PlaneDaemonMsg; the kernel's errors that can be known here (ENODEV, EINVAL, EEXIST, ESRCH) are
// returned at once, the rest logged by the forwarding worker and seen in the next report.
#pragma once
#include <functional>
#include <map>
#include <memory>

#include "base/Asio.h"
#include "director/Channel.h"
#include "kmod/userspace/PlaneTable.h"

namespace director::lvs {

class RemotePlane : public kmod::userspace::PlaneLink {
public:
    RemotePlane(asio::io_context& io, Channel& channel) : io_(io), channel_(channel) {}
    void load(const kmod::userspace::PlaneTable& table) override;
    kmod::TableStatus status() override { return last_.status; }
    std::vector<kmod::ConnEntry> connections() override { return last_.connections; }
    void zero(const std::optional<kmod::ServiceKey>& only) override;
    void refresh(std::function<void()> done) override;
    std::error_code startDaemon(const kmod::SyncDaemon& d) override;
    std::error_code stopDaemon(std::uint32_t state) override;
    std::vector<kmod::SyncDaemon> daemons() override { return last_.daemons; }
    std::optional<kmod::SyncStatus> syncStatus() override { return last_.sync; }
    kmod::ForwardingCounters forwarding() override { return last_.forwarding; }
    void refreshDaemons(std::function<void()> done) override;
    // A PlaneReportMsg from the forwarding worker.
    void onReport(protocol::PlaneReportMsg&& report);

private:
    struct Pending {
        std::function<void()> done;
        std::unique_ptr<asio::steady_timer> timeout;
        bool light = false;  // daemons only: the report's empty connections are not the plane's
    };
    void ask(std::function<void()> done, bool connections);
    void finish(std::uint64_t upTo);
    asio::io_context& io_;
    Channel& channel_;
    protocol::PlaneReportMsg last_;
    std::uint64_t nextId_ = 1;
    std::map<std::uint64_t, Pending> pending_;
};

}  // namespace director::lvs
