// Checker benchmark (issue: health checkers): N real servers on loopback, checked every second by
// directord's CheckSession + probes on one event loop (as in the lvs worker). Per phase (TCP, HTTP,
// HTTPS, ping) it measures the checker's CPU use (% of one core, user + system, this process only: the
// servers run in a child process), the checks/s reached, and the lateness of checks (actual start
// minus scheduled start: p50, p99, max). Prints the numbers, the goals, and a reference: Envoy's
// health checker saturates its main thread near 4,000 checks/s.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "TestServers.h"
#include "base/Clock.h"
#include "healthcheck/CheckSession.h"
#include "healthcheck/HttpProbe.h"
#include "healthcheck/PingProbe.h"
#include "healthcheck/TcpProbe.h"

using namespace std::chrono_literals;

namespace {

struct Cpu {
    double user, sys;
};
Cpu cpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return {static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
            static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6};
}

void raiseFdLimit() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

// The servers, in a child process: a wildcard TCP acceptor (any 127.x.y.z), an HTTP and an HTTPS
// server. Reports the three ports on a pipe, then serves until killed.
struct Servers {
    pid_t pid = -1;
    std::uint16_t tcp = 0, http = 0, https = 0;
};

Servers startServers(const std::string& cert, const std::string& key) {
    int p[2];
    if (pipe(p) != 0) std::abort();
    const pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        raiseFdLimit();
        asio::io_context io;
        asio::ip::tcp::acceptor tcp(io);
        tcp.open(asio::ip::tcp::v4());
        tcp.set_option(asio::socket_base::reuse_address(true));
        tcp.bind(asio::ip::tcp::endpoint(asio::ip::address_v4::any(), 0));
        tcp.listen(65535);
        std::function<void()> accept = [&] {
            tcp.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
                if (!ec) {
                    boost::system::error_code ignore;
                    s.close(ignore);
                }
                accept();
            });
        };
        accept();
        testutil::HttpServer http(io), https(io, cert, key);
        http.script.body = https.script.body = std::string(200, 'x');
        std::uint16_t ports[3] = {tcp.local_endpoint().port(), http.port(), https.port()};
        if (write(p[1], ports, sizeof ports) != static_cast<ssize_t>(sizeof ports)) _exit(1);
        close(p[1]);
        io.run();
        _exit(0);
    }
    close(p[1]);
    std::uint16_t ports[3];
    if (read(p[0], ports, sizeof ports) != static_cast<ssize_t>(sizeof ports)) std::abort();
    close(p[0]);
    return Servers{pid, ports[0], ports[1], ports[2]};
}

struct PhaseResult {
    double checksPerSecond, cpuPercent, userPercent, p50ms, p99ms, maxms;
    std::uint64_t failures;
};

base::Duration grain = base::CoalescedTimerFactory::kDefaultGrain;

template <class MakeProbe, class AtEnd = void (*)(const std::vector<std::unique_ptr<healthcheck::CheckSession>>&)>
PhaseResult runPhase(int n, double seconds, MakeProbe makeProbe, AtEnd atEnd = [](const auto&) {}) {
    asio::io_context io;
    base::CoalescedTimerFactory timers(io, grain);  // as the lvs worker
    std::vector<std::unique_ptr<healthcheck::CheckSession>> sessions;
    std::vector<double> lateness;
    lateness.reserve(static_cast<size_t>(n * (seconds + 4)));
    bool measuring = false;
    healthcheck::CheckTiming t;
    t.interval = 1s;
    t.warmup = 1s;  // spread the starts over the first second
    t.retries = 0;
    for (int i = 0; i < n; ++i) {
        sessions.push_back(std::make_unique<healthcheck::CheckSession>(timers, makeProbe(io, i), t,
                                                                       static_cast<std::uint32_t>(i + 1)));
        sessions.back()->setLatenessObserver([&](base::Duration d) {
            if (measuring) lateness.push_back(std::chrono::duration<double, std::milli>(d).count());
        });
        sessions.back()->start();
    }
    io.run_for(3s);  // warm up: starts spread, connections and TLS sessions settled
    auto attempts = [&] {
        std::uint64_t a = 0, f = 0;
        for (auto& s : sessions) {
            a += s->counters().attempts;
            f += s->counters().failures;
        }
        return std::pair{a, f};
    };
    const auto [a0, f0] = attempts();
    const Cpu cpu0 = cpuSeconds();
    const auto w0 = std::chrono::steady_clock::now();
    measuring = true;
    io.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds)));
    measuring = false;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const Cpu cpu1 = cpuSeconds();
    const double user = cpu1.user - cpu0.user, cpu = user + cpu1.sys - cpu0.sys;
    const auto [a1, f1] = attempts();
    atEnd(sessions);
    for (auto& s : sessions) s->stop();
    io.restart();
    io.poll();
    std::sort(lateness.begin(), lateness.end());
    auto pct = [&](double q) {
        return lateness.empty() ? 0.0 : lateness[static_cast<size_t>(q * static_cast<double>(lateness.size() - 1))];
    };
    return PhaseResult{static_cast<double>(a1 - a0) / wall,
                       100.0 * cpu / wall,
                       100.0 * user / wall,
                       pct(0.5),
                       pct(0.99),
                       lateness.empty() ? 0.0 : lateness.back(),
                       f1 - f0};
}

// The floors: what the kernel charges one process for a check's own system calls with nothing
// else around them, in a blocking loop on loopback (where the kernel runs both ends of a TCP
// handshake in the caller's context). CPU microseconds per check, the median of three loops.
template <class Once>
double floorMicros(int n, Once once) {
    double runs[3];
    for (double& r : runs) {
        const Cpu c0 = cpuSeconds();
        for (int i = 0; i < n; ++i) once(i);
        const Cpu c1 = cpuSeconds();
        r = 1e6 * (c1.user - c0.user + c1.sys - c0.sys) / n;
    }
    std::sort(std::begin(runs), std::end(runs));
    return runs[1];
}

sockaddr_in target4(int i, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | static_cast<unsigned>(((i % 10000) / 250) << 8) |
                               static_cast<unsigned>(i % 250 + 1));
    return sa;
}

void rstClose(int fd) {
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

// TCP: socket, blocking connect, RST close.
double tcpFloorMicros(std::uint16_t port) {
    return floorMicros(20000, [&](int i) {
        sockaddr_in sa = target4(i, port);
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        rstClose(fd);
    });
}

// HTTP: the TCP floor plus sending the probe's request and reading the answer to its end.
double httpFloorMicros(std::uint16_t port) {
    const std::string request =
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: directord-healthcheck\r\nAccept: */*\r\n"
        "Connection: close\r\n\r\n";
    return floorMicros(3000, [&](int) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const timeval tv{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buf[4096];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        rstClose(fd);
    });
}

// Ping: one raw ICMP socket that sees only echo replies (as the probe's), an echo request out and
// its reply in.
double pingFloorMicros() {
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) return 0;
    const std::uint32_t onlyReplies = ~(1u << 0);  // ICMP_FILTER: drop all but type 0 (echo reply)
    ::setsockopt(fd, SOL_RAW, 1, &onlyReplies, sizeof onlyReplies);
    const timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const double us = floorMicros(20000, [&](int i) {
        unsigned char pkt[64] = {8, 0, 0, 0, 0x12, 0x34, 0, 0};
        pkt[6] = static_cast<unsigned char>(i >> 8);
        pkt[7] = static_cast<unsigned char>(i);
        std::uint32_t sum = 0;
        for (size_t k = 0; k < sizeof pkt; k += 2) sum += static_cast<std::uint32_t>(pkt[k] << 8 | pkt[k + 1]);
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        pkt[2] = static_cast<unsigned char>(~sum >> 8);
        pkt[3] = static_cast<unsigned char>(~sum);
        sockaddr_in sa = target4(i, 0);
        (void)::sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        unsigned char in[256];
        (void)::recv(fd, in, sizeof in, 0);
    });
    ::close(fd);
    return us;
}

}  // namespace

int main(int argc, char** argv) {
    int tcpN = 10000, httpN = 2000, httpsN = 1000, pingN = 0;
    double seconds = 10;
    bool serve = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--serve") serve = true;  // the servers only (checker_keepalived_bench.py checks them with keepalived)
        if (i + 1 >= argc) continue;
        if (a == "--tcp") tcpN = std::atoi(argv[++i]);
        else if (a == "--http") httpN = std::atoi(argv[++i]);
        else if (a == "--https") httpsN = std::atoi(argv[++i]);
        else if (a == "--ping") pingN = std::atoi(argv[++i]);
        else if (a == "--seconds") seconds = std::atof(argv[++i]);
        else if (a == "--grain-ms") grain = std::chrono::milliseconds(std::atoi(argv[++i]));
    }
    raiseFdLimit();
    const std::string dir = std::filesystem::temp_directory_path() / ("checker-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    testutil::makeSelfSigned("bench.test", dir + "/cert.pem", dir + "/key.pem");
    const Servers srv = startServers(dir + "/cert.pem", dir + "/key.pem");
    if (serve) {  // "ports TCP HTTP HTTPS", then serve until stdin closes
        std::printf("ports %u %u %u\n", srv.tcp, srv.http, srv.https);
        std::fflush(stdout);
        char c;
        while (read(0, &c, 1) > 0) {
        }
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, nullptr, 0);
        std::filesystem::remove_all(dir);
        return 0;
    }

    std::printf(
        "checker benchmark: checks every 1 s, one event loop, servers in another process, %.0f s per phase, "
        "timers on a %.0f ms grain\n",
        seconds, std::chrono::duration<double, std::milli>(grain).count());
    std::printf("%-6s %8s %10s %12s %8s %9s %9s %9s %9s\n", "phase", "targets", "checks/s", "cpu % core", "(user)",
                "p50 ms", "p99 ms", "max ms", "failures");
    std::fflush(stdout);
    auto report = [](const char* name, int n, const PhaseResult& r) {
        std::printf("%-6s %8d %10.0f %12.1f %8.1f %9.2f %9.2f %9.2f %9llu\n", name, n, r.checksPerSecond, r.cpuPercent,
                    r.userPercent, r.p50ms, r.p99ms, r.maxms, static_cast<unsigned long long>(r.failures));
        std::fflush(stdout);
    };
    const auto tcp = runPhase(tcpN, seconds, [&](asio::io_context& io, int i) {
        // 10,000 distinct loopback addresses, one wildcard listener
        const auto addr =
            asio::ip::make_address_v4("127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
        return std::make_unique<healthcheck::TcpProbe>(io, healthcheck::TcpTarget{{addr, srv.tcp}, {}, 2s});
    });
    report("tcp", tcpN, tcp);
    std::vector<healthcheck::HttpProbe*> tlsProbes;  // for the share of resumed handshakes
    auto httpProbe = [&](bool tls, std::uint16_t port) {
        return [&, tls, port](asio::io_context& io, int) -> std::unique_ptr<healthcheck::Probe> {
            healthcheck::HttpSpec spec;
            spec.path = "/health";
            spec.tls = tls;
            spec.readTimeout = 2s;
            std::string why;
            auto p = healthcheck::HttpProbe::create(io, {{asio::ip::make_address("127.0.0.1"), port}, {}, 2s},
                                                    spec, why);
            if (tls) tlsProbes.push_back(p.get());
            return p;
        };
    };
    PhaseResult http{}, ping{};
    if (httpN > 0) report("http", httpN, http = runPhase(httpN, seconds, httpProbe(false, srv.http)));
    if (httpsN > 0) {
        std::uint64_t resumed = 0, attempts = 0;
        const auto r = runPhase(httpsN, seconds, httpProbe(true, srv.https), [&](const auto& sessions) {
            for (auto* p : tlsProbes) resumed += p->resumedHandshakes();
            for (auto& s : sessions) attempts += s->counters().attempts;
        });
        report("https", httpsN, r);
        std::printf("https: %.1f%% of TLS handshakes resumed a session\n",
                    attempts ? 100.0 * static_cast<double>(resumed) / static_cast<double>(attempts) : 0.0);
    }
    if (pingN > 0)
        report("ping", pingN, ping = runPhase(pingN, seconds, [&](asio::io_context& io, int i) {
                   const auto addr = asio::ip::make_address_v4("127.1." + std::to_string(i / 250) + "." +
                                                               std::to_string(i % 250 + 1));
                   return std::make_unique<healthcheck::PingProbe>(io, addr, 2s);
               }));

    // Per type: CPU per check, the kernel's floor for the same system calls, our share above it.
    const double tcpFloor = tcpFloorMicros(srv.tcp);
    std::printf("\n%-6s %12s %12s %12s %16s\n", "type", "us/check", "floor us", "ours us", "ours / floor");
    auto share = [](const char* name, const PhaseResult& r, double floorUs) {
        if (r.checksPerSecond <= 0 || floorUs <= 0) return 0.0;
        const double us = r.cpuPercent / 100.0 / r.checksPerSecond * 1e6;
        std::printf("%-6s %12.2f %12.2f %12.2f %15.0f%%\n", name, us, floorUs, us - floorUs,
                    100.0 * (us - floorUs) / floorUs);
        return (us - floorUs) / floorUs;
    };
    const double tcpShare = share("tcp", tcp, tcpFloor);
    if (httpN > 0) share("http", http, httpFloorMicros(srv.http));
    if (pingN > 0) share("ping", ping, pingFloorMicros());
    std::printf(
        "floors: a blocking loop of the same system calls on loopback (tcp: socket+connect+RST; http: that plus the "
        "request and the answer; ping: one raw socket's sendto+recv)\n");
    std::printf("goal: our share above the TCP floor at most a quarter of the floor: %.0f%% of it (%s)\n",
                100.0 * tcpShare, tcpShare <= 0.25 ? "met" : "NOT met");
    const double perCore = tcp.cpuPercent > 0 ? tcp.checksPerSecond / (tcp.cpuPercent / 100.0) : 0;
    std::printf(
        "goal: %d TCP checks/s within 20%% of one core, p99 lateness < 10 ms: cpu %.1f%% (%s), p99 %.2f ms (%s)\n",
        tcpN, tcp.cpuPercent, tcp.cpuPercent <= 20 ? "met" : "NOT met", tcp.p99ms, tcp.p99ms < 10 ? "met" : "NOT met");
    std::printf(
        "tcp checks per core-second: %.0f; reference: Envoy's checker saturates its main thread near 4000/s "
        "(ratio %.1fx)\n",
        perCore, perCore / 4000.0);
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, nullptr, 0);
    std::filesystem::remove_all(dir);
    return 0;
}
