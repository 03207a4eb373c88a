// PersistenceTable: the persistence templates of one persistent service (the kernel's connection
// templates): client network (address under the service's netmask) -> real server. A template
// lives while connections it placed are open, and `timeout` seconds after the last one ends or the
// last new connection it placed, whichever is later. Shared by every forwarding thread (a client's
// connections may land on any of them), so it is guarded by a mutex, held briefly.
// Sync: each template remembers when it was last sent to the backup (the callers decide, with
// SyncOutbox's rules, when to send it again), and a backup installs the master's templates here
// with the expiry the master gave them.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "kmod/Model.h"
#include "kmod/userspace/SyncBudget.h"

namespace kmod::userspace {

class PersistenceTable {
public:
    using Clock = std::chrono::steady_clock;
    explicit PersistenceTable(std::chrono::seconds timeout) : timeout_(timeout) {}
    ~PersistenceTable();  // gives the synced templates' units back to their budget
    PersistenceTable(const PersistenceTable&) = delete;
    PersistenceTable& operator=(const PersistenceTable&) = delete;

    // The real server this client network is bound to, if the template is alive; counts a new
    // connection under it. `resendAfter`: when the template was last sent longer ago than this,
    // *resend is set (and the template counts as sent now); *state is the template's state.
    std::optional<DestKey> use(const base::IpAddress& clientNet, Clock::time_point now,
                               Clock::duration resendAfter = Clock::duration::max(), bool* resend = nullptr,
                               std::uint16_t* state = nullptr);
    // Binds a client network to a real server (after the scheduler picked it); counts the connection.
    // Another thread may have bound the network between the caller's use() and this call (two
    // clients of one network placed at once): then that live template wins, the connection counts
    // under it and `kept` names its real server, unless it is `leaving` (the server the caller
    // found gone from the service), which is replaced.
    struct BindResult {
        bool newTemplate = false;         // the real server gained a template
        std::optional<DestKey> replaced;  // an expired template that pointed elsewhere lost it
        std::optional<DestKey> kept;      // a live template bound meanwhile: the caller goes there
        SyncBudget::Refusal refused = SyncBudget::Refusal::None;  // install: a new one past a cap
    };
    BindResult bind(const base::IpAddress& clientNet, const DestKey& dest, Clock::time_point now,
                    const std::optional<DestKey>& leaving = std::nullopt);
    // A connection placed under the template ended; the template's state when it was the last
    // (its expiry starts from now: the backup should hear of it).
    std::optional<std::uint16_t> release(const base::IpAddress& clientNet, Clock::time_point now);
    // Template states, as the kernel's (IP_VS_CTPL_S_*): a template is assured once a connection
    // it placed is established (TCP) or answered (UDP).
    static constexpr std::uint16_t kNone = 0, kAssured = 1;
    // Marks the template assured; true when it was not (the backup should hear of it).
    bool assure(const base::IpAddress& clientNet);
    // A template learned from the master: bound to `dest`, in `state`, expiring at `expires`
    // unless connections hold it. Returns what bind() returns, for the real servers' template counts.
    // With `from`, a new template counts in the budget against the sender (refused past a cap).
    struct SyncedFrom {
        base::IpAddress source;
        std::shared_ptr<SyncBudget> budget;
    };
    BindResult install(const base::IpAddress& clientNet, const DestKey& dest, std::uint16_t state,
                       Clock::time_point expires, const SyncedFrom* from = nullptr);
    // Drops expired templates; calls `expired(dest)` for each. A template whose expiry comes while
    // connections hold it lives 60 s more (the kernel's expire_later), and `renewed(net, dest, state)` is
    // called (the master tells the backup, whose copy would expire then).
    static constexpr std::chrono::seconds kHeldExtension{60};
    template <class Fn>
    void sweep(Clock::time_point now, Fn expired) {
        sweep(now, expired, [](const base::IpAddress&, const DestKey&, std::uint16_t) {});
    }
    template <class Fn, class Renewed>
    void sweep(Clock::time_point now, Fn expired, Renewed renewed) {
        std::lock_guard lock(mutex_);
        for (auto it = templates_.begin(); it != templates_.end();) {
            Template& t = it->second;
            if (t.connections == 0 && t.expires <= now) {
                expired(t.dest);
                giveBack(t);
                it = templates_.erase(it);
                bindingChanges_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            // renewed a little early (2 s, less for short timeouts), so the backup hears of it
            // before its own copy runs out
            const auto lead = std::min<Clock::duration>(std::chrono::seconds(2), timeout_ / 5);
            if (t.connections > 0 && t.expires <= now + lead) {
                t.expires = now + kHeldExtension;
                t.sent = now;
                renewed(it->first, t.dest, t.state);
            }
            ++it;
        }
    }
    // Every template: client network, real server, seconds until it expires (as the kernel lists
    // its templates: counting down from the last connection it placed), state.
    template <class Fn>
    void forEach(Clock::time_point now, Fn fn) const {
        std::lock_guard lock(mutex_);
        for (const auto& [net, t] : templates_) {
            const auto left = t.expires <= now ? std::chrono::seconds(0)
                                               : std::chrono::duration_cast<std::chrono::seconds>(t.expires - now);
            fn(net, t.dest, static_cast<std::uint32_t>(left.count()), t.state);
        }
    }
    void setTimeout(std::chrono::seconds t) {
        std::lock_guard lock(mutex_);
        timeout_ = t;
    }
    std::chrono::seconds timeout() const {
        std::lock_guard lock(mutex_);
        return timeout_;
    }
    size_t size() const {
        std::lock_guard lock(mutex_);
        return templates_.size();
    }
    // How many times a client network was bound to a real server, rebound or dropped: what a copy
    // of the bindings (the forwarding worker's, kept by the supervisor) needs to hear of. Expiry
    // times and states moving do not count.
    std::uint64_t bindingChanges() const { return bindingChanges_.load(std::memory_order_relaxed); }

private:
    struct Template {
        DestKey dest;
        std::uint32_t connections = 0;
        Clock::time_point expires;
        Clock::time_point sent;  // last sent to the backup
        std::uint16_t state = kNone;
        std::optional<base::IpAddress> syncedFrom;  // installed by sync: counts in budget_
    };
    BindResult rebind(Template& t, bool fresh, const DestKey& dest);
    void giveBack(const Template& t) {
        if (t.syncedFrom && budget_) budget_->give(SyncBudget::kTemplate, *t.syncedFrom);
    }
    std::shared_ptr<SyncBudget> budget_;
    mutable std::mutex mutex_;
    std::chrono::seconds timeout_;
    std::map<base::IpAddress, Template> templates_;
    std::atomic<std::uint64_t> bindingChanges_{0};
};

}  // namespace kmod::userspace
