// HealthMonitor: the checks of every real server. It owns one CheckSession per distinct check
// (checks with the same key run once and feed every real server that has them), combines them into
// each real server's health (up when all its checks are up; no checks: always up), logs each
// real server transition with its reason, runs notify_up/notify_down, and tells its owner that the
// desired table must be recomputed. On reload, sessions whose key is unchanged keep running with
// their state, so unchanged real servers do not flap. Runs on the lvs worker's loop.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/Clock.h"
#include "base/Json.h"
#include "conf/Config.h"
#include "director/CommandRunner.h"
#include "director/Mailer.h"
#include "director/lvs/DesiredState.h"
#include "director/lvs/ProbeFactory.h"

namespace director::lvs {

class HealthMonitor {
public:
    HealthMonitor(base::TimerFactory& timers, ProbeFactory& probes, CommandRunner& commands,
                  std::function<void(const std::set<kmod::ServiceKey>& services)> onChange);
    ~HealthMonitor();

    // Builds, keeps or drops sessions for `cfg` (reload: unchanged checks keep their state). With
    // `touched`, only those virtual servers' real servers are looked at (the others are unchanged).
    void configure(const conf::Config& cfg, const std::set<kmod::ServiceKey>* touched = nullptr);
    // Real servers with smtp_alert mail their transitions through it (keepalived's wording).
    void setMailer(Mailer* m) { mailer_ = m; }
    // keepalived's names in mail: "[10.0.0.1]:tcp:80" ("FWM 5" for a fwmark service)
    static std::string trio(const conf::VirtualServer& vs);
    static std::string trio(const conf::VirtualServer& vs, const conf::RealServer& rs);
    void stop();
    // omega: run notify_down for the real servers that are up.
    void runShutdownNotifiers();
    // ha_suspend: pause or resume the checks of real servers of `vs`.
    void setSuspended(const kmod::ServiceKey& vs, bool suspended);

    // Health of every real server that has checks (the others are up).
    const HealthView& view() const { return view_; }
    size_t sessionCount() const { return sessions_.size(); }
    void writeJson(base::JsonWriter& w) const;
    // Each real server's checks with their counters (a check shared by several real servers
    // appears under each); `index` is the check's position in the real server's list, from 1.
    struct CheckStats {
        kmod::ServiceKey vs;
        kmod::DestKey rs;
        size_t index = 0;
        std::string type;
        healthcheck::CheckCounters counters;
        std::optional<double> lastLatencyMs;  // the last attempt's (none: not run yet)
    };
    std::vector<CheckStats> checkStats() const;

    // Since when a real server is in its present state: its last UP/DOWN transition, or (when it
    // had none) since it was configured. `transition` tells which.
    struct Since {
        base::TimePoint at{};          // the timer factory's clock
        std::int64_t wallSeconds = 0;  // the same instant, Unix time
        bool transition = false;
        std::string why;  // what the transition's log line gave as its reason
    };
    std::optional<Since> since(const RsId& id) const;

private:
    struct Session {
        std::unique_ptr<healthcheck::CheckSession> check;
        std::set<RsId> servers;
        std::string type;
        std::string target;
        std::set<kmod::ServiceKey> suspendedBy;
        bool additive = false;  // its weight is added to the server's (file), not set (script)
    };
    struct Server {
        std::string vsName, rsName;
        std::vector<std::string> sessionKeys;
        conf::Command notifyUp, notifyDown;
        std::string user;
        Since since;
        int weight = 1;  // configured
        bool smtpAlert = false;
        std::string vsTrio, rsTrio;  // for mail
    };
    Since nowSince(bool transition, std::string why) const;
    Mailer* mailer_ = nullptr;
    void onEvent(const std::string& key, const healthcheck::CheckSession::Event& e);
    RsHealth evaluate(const Server& s) const;
    void updatePause(Session& s);

    base::TimerFactory& timers_;
    ProbeFactory& probes_;
    CommandRunner& commands_;
    std::function<void(const std::set<kmod::ServiceKey>&)> onChange_;
    std::map<std::string, Session> sessions_;
    std::map<RsId, Server> servers_;
    std::set<kmod::ServiceKey> suspended_;
    HealthView view_;
    std::uint32_t seed_ = 1;
};

}  // namespace director::lvs
