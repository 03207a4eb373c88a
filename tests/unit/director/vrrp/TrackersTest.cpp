// The vrrp worker's tracker kinds: keepalived's weight rules, the registry, and track_script run
// for real (/bin/true and /bin/false) with rise/fall and reload keeping a tracker's state.
#include <catch2/catch.hpp>

#include <chrono>

#include "director/vrrp/Trackers.h"
#include "unit/director/ConfigFixture.h"

using director::vrrp::addTracked;
using director::vrrp::Tracking;

namespace {

std::string farm(const char* second) {
    return std::string(R"(
vrrp_scripts = (
  { name = "ok"; script = [ "/bin/true" ]; interval = 0.05; weight = 10; },
  { name = "bad"; script = [ ")") + second + R"(" ]; interval = 0.05; weight = -20; fall = 2; rise = 1; },
  { name = "fatal"; script = [ "/bin/false" ]; interval = 0.05; weight = 0; }
);
vrrp_instances = (
  { name = "A"; interface = "lo"; virtual_router_id = 1; priority = 100; virtual_addresses = ( "10.0.0.1" );
    track_scripts = ( { script = "ok"; }, { script = "bad"; } ); },
  { name = "B"; interface = "lo"; virtual_router_id = 2; priority = 100; virtual_addresses = ( "10.0.0.2" );
    track_scripts = ( { script = "fatal"; }, { script = "ok"; weight = 3; } ); }
);)";
}

// Runs the loop until every tracked script of every instance has a result (or 10 s pass).
void settle(asio::io_context& io, director::vrrp::TrackerKind& kind, const conf::Config& cfg, int wantKnown) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(50));
        int known = 0;
        for (const auto& v : cfg.vrrpInstances) {
            std::map<std::string, int> states;
            kind.states(v, states);
            for (const auto& [name, code] : states) known += code != 1;
        }
        if (known >= wantKnown) return;
    }
}

director::protocol::Message protocol_msg(const std::string& name, bool up) {
    return director::protocol::BfdStateMsg{name, up};
}

}  // namespace

TEST_CASE("tracking: keepalived's weight rules") {
    Tracking t;
    addTracked(t, 10, true);    // positive, succeeding: added
    addTracked(t, 10, false);   // positive, failing: nothing
    addTracked(t, -5, false);   // negative, failing: added
    addTracked(t, -5, true);    // negative, succeeding: nothing
    CHECK(t == Tracking{5, false});
    addTracked(t, 0, true);
    CHECK_FALSE(t.fault);
    addTracked(t, 0, false);  // weight 0 and failing: FAULT
    CHECK(t.fault);
    // reverse: the weight is multiplied by -1 (applied on the same side), weight 0 FAULTs on success
    Tracking r;
    addTracked(r, 10, true, true);   // positive, succeeding: -10
    addTracked(r, -5, false, true);  // negative, failing: +5
    addTracked(r, -5, true, true);   // negative, succeeding: nothing
    CHECK(r == Tracking{-5, false});
    addTracked(r, 0, false, true);
    CHECK_FALSE(r.fault);
    addTracked(r, 0, true, true);
    CHECK(r.fault);
}

TEST_CASE("tracking: every kind has a row, each named once") {
    asio::io_context io;
    const auto kinds = director::vrrp::makeTrackerKinds(io, [] {});
    REQUIRE_FALSE(kinds.empty());
    std::set<std::string_view> names;
    for (const auto& k : kinds) CHECK(names.insert(k->name()).second);
    CHECK(names.contains("track_script"));
}

TEST_CASE("tracking: track_script runs the scripts and sums per instance", "[root]") {
    asio::io_context io;
    int changes = 0;
    director::vrrp::ScriptTrackers scripts(io, [&] { ++changes; });
    auto cfg = fixture::load(farm("/bin/false"));
    scripts.configure(cfg);
    settle(io, scripts, cfg, 4);
    // A: ok (+10, succeeding), bad (-20, failing twice: fall = 2)
    io.run_for(std::chrono::milliseconds(300));
    CHECK(scripts.tracking(cfg.vrrpInstances[0]) == Tracking{-10 + 20 - 20, false});
    // B: fatal (weight 0, failing: FAULT), ok with the instance's own weight 3
    CHECK(scripts.tracking(cfg.vrrpInstances[1]) == Tracking{3, true});
    std::map<std::string, int> states;
    scripts.states(cfg.vrrpInstances[0], states);
    CHECK(states == std::map<std::string, int>{{"bad", 2}, {"ok", 3}});
    CHECK(changes >= 2);  // bad and fatal each changed state once

    // A reload that changes one script restarts it (back to "succeeding" until it fails), and
    // keeps the others with their state.
    auto next = fixture::load(farm("/bin/true"));
    scripts.configure(next);
    std::map<std::string, int> after;
    scripts.states(next.vrrpInstances[1], after);
    CHECK(after.at("fatal") == 2);  // unchanged: kept, still failing
    CHECK(after.at("ok") == 3);
    io.run_for(std::chrono::milliseconds(300));
    CHECK(scripts.tracking(next.vrrpInstances[0]) == Tracking{10, false});
    scripts.stop();
    io.run_for(std::chrono::milliseconds(100));
}

TEST_CASE("tracking: init_fail starts a script failed until rise successes, not in a restarted worker", "[root]") {
    const char* text = R"(
vrrp_scripts = ( { name = "slow"; script = [ "/bin/true" ]; interval = 0.05; weight = 0; rise = 3; init_fail = true; } );
vrrp_instances = ( { name = "A"; interface = "lo"; virtual_router_id = 1; virtual_addresses = ( "10.0.0.1" );
                     track_scripts = ( { script = "slow"; } ); } );)";
    auto cfg = fixture::load(text);
    REQUIRE(cfg.vrrpScripts.at(0).initFail);
    {
        asio::io_context io;
        director::vrrp::ScriptTrackers scripts(io, [] {});
        scripts.configure(cfg);
        CHECK(scripts.tracking(cfg.vrrpInstances[0]).fault);  // failed before it ever ran
        io.run_for(std::chrono::milliseconds(60));
        CHECK(scripts.tracking(cfg.vrrpInstances[0]).fault);  // one success of the three it needs
        settle(io, scripts, cfg, 1);
        io.run_for(std::chrono::milliseconds(400));
        CHECK_FALSE(scripts.tracking(cfg.vrrpInstances[0]).fault);  // rise = 3 successes: up
        scripts.stop();
        io.run_for(std::chrono::milliseconds(100));
    }
    {
        asio::io_context io;
        director::vrrp::ScriptTrackers scripts(io, [] {});
        scripts.resuming();  // a restarted worker: its instances resume as they were
        scripts.configure(cfg);
        CHECK_FALSE(scripts.tracking(cfg.vrrpInstances[0]).fault);
        scripts.stop();
        io.run_for(std::chrono::milliseconds(100));
    }
}

TEST_CASE("tracking: track_bfd follows the lvs worker's BfdStateMsg with keepalived's rules") {
    const auto cfg = fixture::load(R"(
bfd_instances = ( { name = "gw"; neighbor_ip = "10.0.0.9"; },
                  { name = "up"; neighbor_ip = "10.0.0.8"; weight = 7; } );
vrrp_instances = (
  { name = "A"; interface = "lo"; virtual_router_id = 1; virtual_addresses = ( "10.0.0.1" );
    track_bfds = ( { bfd = "gw"; } ); },
  { name = "B"; interface = "lo"; virtual_router_id = 2; virtual_addresses = ( "10.0.0.2" );
    track_bfds = ( { bfd = "gw"; weight = -20; }, { bfd = "up"; } ); },
  { name = "C"; interface = "lo"; virtual_router_id = 3; virtual_addresses = ( "10.0.0.3" );
    track_bfds = ( { bfd = "gw"; weight = 5; reverse = true; }, { bfd = "up"; weight = 0; reverse = true; } ); }
);)");
    director::vrrp::BfdTrackers k;
    k.configure(cfg);
    const auto& a = cfg.vrrpInstances[0];
    const auto& b = cfg.vrrpInstances[1];
    const auto& c = cfg.vrrpInstances[2];
    // nothing heard: every session counts as down (an instance tracking one with weight 0 is FAULT)
    CHECK(k.tracking(a) == Tracking{0, true});
    CHECK(k.tracking(b) == Tracking{-20, false});
    CHECK(k.tracking(c) == Tracking{0, false});  // reverse, weight 0: down is fine
    std::map<std::string, int> states;
    k.states(b, states);
    CHECK(states == std::map<std::string, int>{{"gw", 1}, {"up", 1}});
    CHECK(k.heard(protocol_msg("gw", true)));
    CHECK_FALSE(k.heard(protocol_msg("gw", true)));  // no change, nothing to apply
    CHECK_FALSE(k.heard(director::protocol::Message{director::protocol::HeartbeatMsg{}}));
    CHECK(k.tracking(a) == Tracking{0, false});
    CHECK(k.tracking(b) == Tracking{0, false});
    CHECK(k.tracking(c) == Tracking{-5, false});  // reverse multiplies the weight by -1
    CHECK(k.heard(protocol_msg("up", true)));
    CHECK(k.tracking(b) == Tracking{7, false});   // the BFD instance's own weight
    CHECK(k.tracking(c) == Tracking{-5, true});   // reverse, weight 0: Up is FAULT
    states.clear();
    k.states(b, states);
    CHECK(states == std::map<std::string, int>{{"gw", 3}, {"up", 3}});
    CHECK(k.heard(protocol_msg("gw", false)));
    CHECK(k.tracking(a) == Tracking{0, true});
    // a reload keeps what was heard
    k.configure(cfg);
    CHECK(k.tracking(b) == Tracking{-13, false});
}

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "director/vrrp/ProcessWatch.h"

namespace {

conf::TrackProcess kind(const std::string& process) {
    conf::TrackProcess t;
    t.name = "k";
    t.process = process;
    return t;
}

std::string cmdline(std::initializer_list<const char*> argv) {
    std::string out;
    for (const char* a : argv) out += std::string(a) + '\0';
    return out;
}

}  // namespace

TEST_CASE("track_process: keepalived's matching of names, command lines and arguments") {
    using director::vrrp::processMatches;
    using M = conf::TrackProcess::ParamMatch;
    const director::vrrp::ProcessImage haproxy{"haproxy", cmdline({"/usr/sbin/haproxy", "-f", "/etc/h.cfg", "-Ws"})};
    CHECK(processMatches(kind("haproxy"), haproxy));
    CHECK_FALSE(processMatches(kind("hapro"), haproxy));  // exact, not a prefix or a pattern (pgrep's ^..$)
    CHECK_FALSE(processMatches(kind("/usr/sbin/haproxy"), haproxy));  // the name, not the path
    auto full = kind("/usr/sbin/haproxy");
    full.fullCommand = true;
    CHECK(processMatches(full, haproxy));  // argv[0], arguments not looked at
    full.process = "haproxy";
    CHECK_FALSE(processMatches(full, haproxy));
    auto args = kind("/usr/sbin/haproxy");
    args.fullCommand = true;
    args.params = {"-f", "/etc/h.cfg"};
    args.paramMatch = M::Exact;
    CHECK_FALSE(processMatches(args, haproxy));  // exact: -Ws follows
    args.paramMatch = M::Partial;
    CHECK(processMatches(args, haproxy));  // the first ones, more may follow
    args.params = {"-f", "/etc/h"};
    CHECK_FALSE(processMatches(args, haproxy));
    args.paramMatch = M::Initial;
    CHECK(processMatches(args, haproxy));  // the last one may be longer
    args.params = {"-x"};
    CHECK_FALSE(processMatches(args, haproxy));
    auto none = kind("/bin/sleep");
    none.fullCommand = true;
    none.paramMatch = M::Exact;  // param_match with no params: no arguments at all
    CHECK(processMatches(none, {"sleep", cmdline({"/bin/sleep"})}));
    CHECK_FALSE(processMatches(none, {"sleep", cmdline({"/bin/sleep", "5"})}));
    CHECK_FALSE(processMatches(none, {"sleep", ""}));  // a kernel thread or a zombie: no command line
}

TEST_CASE("track_process: the config reads keepalived's implications and refuses what never matches") {
    const auto cfg = fixture::load(R"(
track_processes = (
  { name = "lb"; process = "/usr/sbin/haproxy"; params = [ "-f", "/etc/haproxy/haproxy.cfg" ]; weight = -30; },
  { name = "one"; process = "nginx"; quorum_max = 1; terminate_delay = 0.5; },
  { name = "none"; process = "apt"; quorum_max = 0; param_match = "partial"; fork_delay = 1; terminate_delay = 2; }
);
vrrp_instances = ( { name = "A"; interface = "lo"; virtual_router_id = 1; virtual_addresses = ( "10.0.0.1" );
  track_processes = ( { track_process = "lb"; }, { track_process = "one"; weight = 5; reverse = true; } ); } );)");
    using M = conf::TrackProcess::ParamMatch;
    REQUIRE(cfg.trackProcesses.size() == 3);
    CHECK((cfg.trackProcesses[0].paramMatch == M::Exact && cfg.trackProcesses[0].fullCommand));
    CHECK((!cfg.trackProcesses[1].fullCommand && cfg.trackProcesses[1].quorumMax == 1));
    CHECK(cfg.trackProcesses[2].paramMatch == M::Partial);
    CHECK(cfg.trackProcesses[2].fullCommand);  // param_match implies it
    CHECK(cfg.trackProcesses[2].forkDelay == std::chrono::seconds(1));
    CHECK(cfg.trackProcesses[2].terminateDelay == std::chrono::seconds(2));
    CHECK(cfg.vrrpInstances[0].trackProcesses.size() == 2);
    auto errors = [](const std::string& text) {
        std::string all;
        for (const auto& d : conf::loadString(text, "t.conf").diagnostics) all += d.str() + "\n";
        return all;
    };
    const std::string inst = R"(vrrp_instances = ( { name = "A"; interface = "lo"; virtual_router_id = 1;
  virtual_addresses = ( "10.0.0.1" ); track_processes = ( { track_process = "x"; } ); } );)";
    CHECK(errors("track_processes = ( { name = \"x\"; process = \"a-very-long-daemon\"; } );\n" + inst)
              .find("process 'a-very-long-daemon' is longer than 15 characters") !=
          std::string::npos);
    CHECK(errors("track_processes = ( { name = \"x\"; process = \"a\"; quorum = 3; quorum_max = 2; } );\n" + inst)
              .find("quorum_max 2 is less than quorum 3") != std::string::npos);
    CHECK(errors(inst).find("unknown track process 'x' (no track_processes are defined)") != std::string::npos);
}

TEST_CASE("track_process: the kernel's events count a renamed process, its fork, an exec and exits",
          "[root]") {
    asio::io_context io;
    std::vector<std::pair<std::string, bool>> heard;
    director::vrrp::ProcessWatch w(io, [&](const std::string& n, bool up) { heard.emplace_back(n, up); });
    const std::string me = "dtpw" + std::to_string(getpid() % 100000);
    const std::string tool = "dtps" + std::to_string(getpid() % 100000);
    auto pair = kind(me);
    pair.name = "pair";
    pair.quorum = 2;
    auto spawned = kind(tool);
    spawned.name = "spawned";
    auto absent = kind(me);
    absent.name = "absent";
    absent.quorumMax = 0;  // up while none runs
    std::string why;
    REQUIRE(w.configure({pair, spawned, absent}, why));
    INFO(why);
    CHECK_FALSE(w.up("pair"));
    CHECK(w.up("absent"));
    auto until = [&](auto done) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < end) io.run_for(std::chrono::milliseconds(10));
        return done();
    };
    char old[17]{};
    prctl(PR_GET_NAME, old);
    prctl(PR_SET_NAME, me.c_str());  // a name change (PROC_EVENT_COMM): 1 of 2
    CHECK(until([&] { return w.count("pair") == 1; }));
    CHECK_FALSE(w.up("pair"));
    CHECK_FALSE(w.up("absent"));
    const pid_t child = fork();  // the child is the same program: 2 of 2
    if (child == 0) {
        pause();
        _exit(0);
    }
    CHECK(until([&] { return w.up("pair"); }));
    CHECK(w.count("pair") == 2);
    // an exec of a program of another name: counted there, no longer here (the spawning child
    // carried our name from its fork until its exec)
    const auto bin = std::filesystem::temp_directory_path() / tool;
    std::filesystem::copy_file("/bin/sleep", bin, std::filesystem::copy_options::overwrite_existing);
    pid_t sleeper = -1;
    const char* argv[] = {bin.c_str(), "30", nullptr};
    REQUIRE(posix_spawn(&sleeper, bin.c_str(), nullptr, nullptr, const_cast<char* const*>(argv), environ) == 0);
    CHECK(until([&] { return w.up("spawned") && w.count("pair") == 2; }));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    CHECK(until([&] { return !w.up("pair"); }));  // an exit: 1 of 2
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
    CHECK(until([&] { return !w.up("spawned"); }));
    prctl(PR_SET_NAME, old);
    CHECK(until([&] { return w.up("absent"); }));
    CHECK(w.count("pair") == 0);
    std::filesystem::remove(bin);
    CHECK(w.events() > 0);
    CHECK(w.dropped() == 0);  // every event whole, all from the kernel
    // every change was told, in order, and only changes
    const std::vector<std::pair<std::string, bool>> want = {
        {"absent", false}, {"pair", true}, {"spawned", true}, {"pair", false}, {"spawned", false}, {"absent", true}};
    CHECK(heard == want);
}

TEST_CASE("track_process: terminate_delay rides over a restart; a reload keeps counts", "[root]") {
    asio::io_context io;
    int changes = 0;
    director::vrrp::ProcessWatch w(io, [&](const std::string&, bool) { ++changes; });
    const std::string name = "dtpd" + std::to_string(getpid() % 100000);
    auto k = kind(name);
    k.terminateDelay = std::chrono::milliseconds(400);
    const auto bin = std::filesystem::temp_directory_path() / name;
    std::filesystem::copy_file("/bin/sleep", bin, std::filesystem::copy_options::overwrite_existing);
    auto start = [&] {
        pid_t p = -1;
        const char* argv[] = {bin.c_str(), "30", nullptr};
        REQUIRE(posix_spawn(&p, bin.c_str(), nullptr, nullptr, const_cast<char* const*>(argv), environ) == 0);
        return p;
    };
    const pid_t first = start();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string why;
    REQUIRE(w.configure({k}, why));  // found by the walk of /proc
    CHECK(w.up("k"));
    kill(first, SIGKILL);
    waitpid(first, nullptr, 0);
    io.run_for(std::chrono::milliseconds(150));
    CHECK(w.count("k") == 0);
    CHECK(w.up("k"));  // within terminate_delay
    const pid_t second = start();
    io.run_for(std::chrono::milliseconds(500));
    CHECK(w.up("k"));
    CHECK(changes == 0);  // the restart made no transition
    auto k2 = k;
    k2.where = conf::Location{"moved.conf", 9};
    REQUIRE(w.configure({k2}, why));  // the same definition elsewhere: kept
    CHECK(w.count("k") == 1);
    kill(second, SIGKILL);
    waitpid(second, nullptr, 0);
    io.run_for(std::chrono::milliseconds(700));
    CHECK_FALSE(w.up("k"));
    CHECK(changes == 1);
    std::filesystem::remove(bin);
}
