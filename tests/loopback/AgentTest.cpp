// The AgentX subagent's thread against a real snmpd (AgentX master on a unix socket of this test's
// own, SNMP on a loopback port): while the test's thread publishes a new snapshot every few
// milliseconds and queues traps, snmpget reads two objects of one snapshot in one request, over and
// over. Each snapshot holds the same generation number in both, so a torn read (half of one
// snapshot, half of another) shows as two different numbers. CI also runs this under
// ThreadSanitizer, which sees the agent thread, the publisher and the trap queue race or not.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "director/snmp/Agent.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using snmp::operator+;

int freeUdpPort() {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

pid_t spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    return pid;
}

std::string capture(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
    return out;
}

const snmp::Oid kRoot{1, 3, 6, 1, 4, 1, 9586, 99};

std::shared_ptr<const snmp::MibTree> snapshot(std::uint64_t generation) {
    auto t = std::make_shared<snmp::MibTree>();
    t->set(kRoot + snmp::Oid{1, 0}, snmp::Value::counter64(generation));
    for (std::uint32_t i = 0; i < 200; ++i) t->set(kRoot + snmp::Oid{2, i}, snmp::Value::string("row"));
    t->set(kRoot + snmp::Oid{3, 0}, snmp::Value::counter64(generation));
    return t;
}

}  // namespace

TEST_CASE("snmp agent: snapshots swapped under readers are never torn; traps queue from another thread") {
    char tmpl[] = "/tmp/agent-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string dir = tmpl;
    const int port = freeUdpPort();
    {
        std::ofstream c(dir + "/snmpd.conf");
        c << "master agentx\nagentXSocket unix:" << dir << "/agentx\nagentXPerms 0600 0700\n"
          << "rocommunity public 127.0.0.1\n";
    }
    ::setenv("MIBS", "", 1);
    ::setenv("SNMP_PERSISTENT_DIR", (dir + "/persist").c_str(), 1);
    const pid_t snmpd = spawn({"snmpd", "-f", "-C", "-c", dir + "/snmpd.conf", "-Lf", dir + "/snmpd.log",
                               "udp:127.0.0.1:" + std::to_string(port)});
    REQUIRE(snmpd > 0);
    for (int i = 0; i < 500 && !std::filesystem::exists(dir + "/agentx"); ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(std::filesystem::exists(dir + "/agentx"));

    {
        snmp::AgentOptions o;
        o.name = "agent-test";
        o.socket = "unix:" + dir + "/agentx";
        o.roots = {kRoot};
        o.pingInterval = std::chrono::seconds(1);
        snmp::Agent agent(o);
        std::uint64_t gen = 1;
        agent.publish(snapshot(gen));
        for (int i = 0; i < 1000 && !agent.connected(); ++i) std::this_thread::sleep_for(10ms);
        REQUIRE(agent.connected());

        std::atomic<bool> stop{false};
        std::thread publisher([&] {
            while (!stop.load()) {
                agent.publish(snapshot(++gen));
                if (gen % 16 == 0)
                    agent.trap(snmp::Trap{kRoot + snmp::Oid{0, 1}, {{kRoot + snmp::Oid{1, 0}, snmp::Value::counter64(gen)}}});
                std::this_thread::sleep_for(2ms);
            }
        });
        const std::string get = "snmpget -v2c -c public -On -t 2 -r 1 udp:127.0.0.1:" + std::to_string(port) + " " +
                                snmp::oidText(kRoot + snmp::Oid{1, 0}) + " " + snmp::oidText(kRoot + snmp::Oid{3, 0}) +
                                " 2>&1";
        const std::regex value(R"(= Counter64: (\d+))");
        int reads = 0, torn = 0;
        std::set<std::string> seen;
        for (int i = 0; i < 40; ++i) {
            const std::string out = capture(get);
            std::vector<std::string> v;
            for (auto it = std::sregex_iterator(out.begin(), out.end(), value); it != std::sregex_iterator(); ++it)
                v.push_back((*it)[1]);
            INFO(out);
            REQUIRE(v.size() == 2);
            ++reads;
            torn += v[0] != v[1];
            seen.insert(v[0]);
        }
        stop = true;
        publisher.join();
        CHECK(reads == 40);
        CHECK(torn == 0);
        CHECK(seen.size() > 1);  // the snapshots did change under the readers
        CHECK(agent.requests() >= 40);
        CHECK(agent.trapsSent() > 0);
    }
    ::kill(snmpd, SIGTERM);
    ::waitpid(snmpd, nullptr, 0);
    std::filesystem::remove_all(dir);
}
