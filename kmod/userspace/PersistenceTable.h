// PersistenceTable: the persistence templates of one persistent service (the kernel's connection
// templates): client network (address under the service's netmask) -> real server. A template
// lives while connections it placed are open, and `timeout` seconds after the last one ends or the
// last new connection it placed, whichever is later. Shared by every forwarding thread (a client's
// connections may land on any of them), so it is guarded by a mutex, held briefly.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "kmod/Model.h"

namespace kmod {

class PersistenceTable {
public:
    using Clock = std::chrono::steady_clock;
    explicit PersistenceTable(std::chrono::seconds timeout) : timeout_(timeout) {}

    // The real server this client network is bound to, if the template is alive; counts a new
    // connection under it.
    std::optional<DestKey> use(const base::IpAddress& clientNet, Clock::time_point now);
    // Binds a client network to a real server (after the scheduler picked it); counts the connection.
    struct BindResult {
        bool newTemplate = false;         // the real server gained a template
        std::optional<DestKey> replaced;  // an expired template that pointed elsewhere lost it
    };
    BindResult bind(const base::IpAddress& clientNet, const DestKey& dest, Clock::time_point now);
    // A connection placed under the template ended.
    void release(const base::IpAddress& clientNet, Clock::time_point now);
    // Drops expired templates; calls `expired(dest)` for each.
    template <class Fn>
    void sweep(Clock::time_point now, Fn expired) {
        std::lock_guard lock(mutex_);
        for (auto it = templates_.begin(); it != templates_.end();) {
            if (it->second.connections == 0 && it->second.expires <= now) {
                expired(it->second.dest);
                it = templates_.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Every template: client network, real server, seconds left (the timeout while connections hold it).
    template <class Fn>
    void forEach(Clock::time_point now, Fn fn) const {
        std::lock_guard lock(mutex_);
        for (const auto& [net, t] : templates_) {
            const auto left = t.connections > 0 || t.expires <= now
                                  ? (t.connections > 0 ? timeout_ : std::chrono::seconds(0))
                                  : std::chrono::duration_cast<std::chrono::seconds>(t.expires - now);
            fn(net, t.dest, static_cast<std::uint32_t>(left.count()));
        }
    }
    void setTimeout(std::chrono::seconds t) {
        std::lock_guard lock(mutex_);
        timeout_ = t;
    }
    size_t size() const {
        std::lock_guard lock(mutex_);
        return templates_.size();
    }

private:
    struct Template {
        DestKey dest;
        std::uint32_t connections = 0;
        Clock::time_point expires;
    };
    mutable std::mutex mutex_;
    std::chrono::seconds timeout_;
    std::map<base::IpAddress, Template> templates_;
};

}  // namespace kmod
