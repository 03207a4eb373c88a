// Tracker kinds of the vrrp worker: what, besides the instance's own links, moves an instance's
// priority or puts it in FAULT. Each kind (track_script, track_file, track_bfd; track_process next)
// is one class and one row in makeTrackerKinds(); the worker sums what every kind says about an
// instance, hands every kind the messages other workers send it, and never switches on the kind. Instance-level interface tracking stays in
// vrrp::Instance (it follows the instance's own link watcher).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/Asio.h"
#include "conf/Config.h"
#include "director/protocol/Messages.h"

namespace healthcheck {
class Probe;
class FileWatch;
}

namespace director::vrrp {

class ProcessWatch;

// What the trackers of an instance add up to: a priority delta, or FAULT.
struct Tracking {
    int delta = 0;
    bool fault = false;
    bool operator==(const Tracking&) const = default;
};

// keepalived's rule for one tracked thing: weight 0 and failing is FAULT; a positive weight is added
// while it succeeds, a negative one while it fails. `reverse` (keepalived's, e.g. track_bfd's)
// multiplies the weight added by -1, and makes weight 0 FAULT while it succeeds.
void addTracked(Tracking& t, int weight, bool up, bool reverse = false);

class TrackerKind {
public:
    virtual ~TrackerKind() = default;
    virtual std::string_view name() const = 0;  // the config's word: "track_script"
    // Starts what `cfg` needs, keeps what is unchanged (with its state), stops the rest.
    virtual void configure(const conf::Config& cfg) = 0;
    // A restarted worker: its instances resume as they were, so nothing starts failed.
    virtual void resuming() {}
    // What this kind adds to `inst` now.
    virtual Tracking tracking(const conf::VrrpInstance& inst) const = 0;
    // Each tracked thing of `inst` by name: 1 not yet known, 2 failing, 3 succeeding (the MIB's codes).
    virtual void states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const = 0;
    virtual void stop() = 0;
    // A message from another worker (a BFD session's state from the lvs worker): true when it
    // changed what this kind says (the worker then applies every instance's tracking again).
    virtual bool heard(const protocol::Message&) { return false; }
};

// Called when any tracker changes state, so the worker applies every instance's Tracking again.
using TrackingChanged = std::function<void()>;

// Every kind, in a fixed order: one row per kind.
std::vector<std::unique_ptr<TrackerKind>> makeTrackerKinds(asio::io_context& io, TrackingChanged changed);

// track_script: each vrrp_script runs once for all the instances that track it (rise/fall
// consecutive results), kept across reloads while its definition stays the same.
class ScriptTrackers : public TrackerKind {
public:
    ScriptTrackers(asio::io_context& io, TrackingChanged changed);
    ~ScriptTrackers() override;
    std::string_view name() const override { return "track_script"; }
    void configure(const conf::Config& cfg) override;
    void resuming() override { resuming_ = true; }
    Tracking tracking(const conf::VrrpInstance& inst) const override;
    void states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const override;
    void stop() override;

private:
    bool resuming_ = false;  // the first configure() of a restarted worker: no init_fail
    struct Script {
        conf::VrrpScript cfg;
        std::unique_ptr<asio::steady_timer> timer;
        std::unique_ptr<healthcheck::Probe> probe;
        bool up = true;
        bool ran = false;  // a first result came
        int streak = 0;    // consecutive results against the current state
    };
    void run(const std::string& name);
    asio::io_context& io_;
    TrackingChanged changed_;
    std::map<std::string, Script> scripts_;
};

// track_file: each tracked file watched once (inotify, the loop's FileWatch) for every instance
// that tracks it; value x weight is added to the priority, -254 or less is FAULT (keepalived's
// rules, healthcheck/TrackedFile.h).
class FileTrackers : public TrackerKind {
public:
    FileTrackers(asio::io_context& io, TrackingChanged changed);
    ~FileTrackers() override;
    std::string_view name() const override { return "track_file"; }
    void configure(const conf::Config& cfg) override;
    Tracking tracking(const conf::VrrpInstance& inst) const override;
    void states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const override;
    void stop() override;

private:
    struct File {
        conf::TrackFile cfg;
        int subscription = 0;
    };
    asio::io_context& io_;
    TrackingChanged changed_;
    std::shared_ptr<healthcheck::FileWatch> watch_;
    std::map<std::string, File> files_;  // by track file name
};

// track_bfd: the BFD sessions run on the lvs worker (BfdRelay; one process holds BFD's port), whose
// states come as BfdStateMsg. keepalived's rules: a session counts as down until heard Up; weight 0
// and down is FAULT; a positive weight is added while Up, a negative one while down; `reverse`
// multiplies the weight by -1 (weight 0: Up is FAULT).
class BfdTrackers : public TrackerKind {
public:
    std::string_view name() const override { return "track_bfd"; }
    void configure(const conf::Config& cfg) override;
    Tracking tracking(const conf::VrrpInstance& inst) const override;
    void states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const override;
    void stop() override {}
    bool heard(const protocol::Message& m) override;

private:
    std::map<std::string, conf::BfdInstance> sessions_;  // by name
    std::map<std::string, bool> up_;                     // as last heard (kept over a reload)
};

// track_process: the kinds of processes counted by one ProcessWatch (the kernel's process events);
// keepalived's rules: weight 0 and not up is FAULT, a positive weight is added while up, a negative
// one while not; `reverse` the other way round.
class ProcessTrackers : public TrackerKind {
public:
    ProcessTrackers(asio::io_context& io, TrackingChanged changed);
    ~ProcessTrackers() override;
    std::string_view name() const override { return "track_process"; }
    void configure(const conf::Config& cfg) override;
    Tracking tracking(const conf::VrrpInstance& inst) const override;
    void states(const conf::VrrpInstance& inst, std::map<std::string, int>& out) const override;
    void stop() override;

private:
    asio::io_context& io_;
    TrackingChanged changed_;
    std::unique_ptr<ProcessWatch> watch_;
    std::map<std::string, conf::TrackProcess> defs_;
    bool working_ = false;  // the kernel's events are being read
};

}  // namespace director::vrrp
