// SyncEngine: the userspace plane's sync daemons, master and backup, on their own thread (the
// kernel's ipvs-m / ipvs-b threads). The master drains the SyncOutbox into datagrams of at most
// maxlen bytes and sends each as soon as it is full, or 20 ms after its first entry (the kernel's
// IPVS_SYNC_SEND_DELAY; the kernel waits up to 2 s more for a partial one, which is why its
// backups lag), and sends every template it has when it starts (a backup that restarted, or the
// old master come back, learns them). The backup reads datagrams from the group on its
// interface, drops and counts what is malformed or foreign, installs templates into the services'
// PersistenceTables and connections into SyncedConns, each bound to this plane's destinations.
// start/stop/status are called from the Forwarder's owner and run on the engine's thread.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/Asio.h"
#include "kmod/IpvsTable.h"
#include "kmod/sync/SyncProtocol.h"
#include "kmod/sync/SyncSocket.h"
#include "kmod/userspace/Snapshot.h"
#include "kmod/userspace/SyncOutbox.h"
#include "kmod/userspace/SyncedConns.h"

namespace kmod::userspace {

class SyncEngine {
public:
    SyncEngine(std::shared_ptr<SyncOutbox> outbox, std::shared_ptr<SyncedConns> synced);
    ~SyncEngine();
    SyncEngine(const SyncEngine&) = delete;
    SyncEngine& operator=(const SyncEngine&) = delete;

    // The kernel's errors: EEXIST (that state runs), ENODEV (no such interface), EINVAL (a group
    // that is not multicast, a state that is not master or backup); socket errors as they come.
    std::error_code start(const SyncDaemon& d);
    std::error_code stop(std::uint32_t state);  // ESRCH: not running
    std::vector<SyncDaemon> daemons();          // with every default resolved
    SyncStatus status();
    // The table the backup binds to (and the master's templates come from).
    void setSnapshot(std::shared_ptr<const Snapshot> s);

private:
    template <class Fn>
    auto onThread(Fn fn) -> decltype(fn());
    void drain();
    void flush();
    void sendDatagram(std::vector<std::uint8_t> d);
    void writeQueued();
    void sendAllTemplates();
    void readLoop();
    void install(const sync::SyncConn& c, SyncOutbox::Clock::time_point now, const base::IpAddress& source);
    void refuse(SyncBudget::Refusal why, bool templ);
    std::uint32_t clampedTimeout(const sync::SyncConn& c) const;
    void sweep();

    std::shared_ptr<SyncOutbox> outbox_;
    std::shared_ptr<SyncedConns> synced_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    std::shared_ptr<const Snapshot> snapshot_;

    struct Master {
        sync::Endpoint endpoint;
        asio::posix::stream_descriptor socket;
        sync::SyncEncoder encoder;
        SyncOutbox::Clock::time_point oldest;  // of the entries in the encoder
        asio::steady_timer flushTimer;
        bool flushArmed = false;
        std::deque<std::vector<std::uint8_t>> queued;  // waiting for room in the socket
        bool writeArmed = false;
        Master(asio::io_context& io, sync::Endpoint e, int fd)
            : endpoint(e), socket(io, fd), encoder(e.syncId, e.maxLen), flushTimer(io) {}
    };
    struct Backup {
        sync::Endpoint endpoint;
        SyncLimits limits;
        asio::posix::stream_descriptor socket;
        Backup(asio::io_context& io, sync::Endpoint e, SyncLimits l, int fd)
            : endpoint(std::move(e)), limits(l), socket(io, fd) {}
    };
    std::unique_ptr<Master> master_;
    std::unique_ptr<Backup> backup_;
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(65536);
    asio::steady_timer sweepTimer_;
    SyncStatus stats_;
    sync::DropCounts drops_{};
    std::map<std::string, std::uint64_t> refusals_;  // by cap, reported with the drops
    std::uint64_t lastErrorLog_ = 0;
};

}  // namespace kmod::userspace
