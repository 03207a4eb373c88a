// Probes against real servers on loopback: healthy, failing and hostile ones. Each failure must end
// with the right reason within its timeout, and descriptors must return to their baseline.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <thread>

#include "TestServers.h"
#include "healthcheck/HttpProbe.h"
#include "healthcheck/ScriptProbe.h"
#include "healthcheck/TcpProbe.h"

using namespace std::chrono_literals;
using healthcheck::Failure;
using healthcheck::ProbeResult;
using testutil::Behaviour;

namespace {

ProbeResult runOnce(asio::io_context& io, healthcheck::Probe& p) {
    std::optional<ProbeResult> got;
    p.run([&](ProbeResult r) { got = r; });
    io.restart();
    while (!got && io.run_one_for(30s)) {}
    REQUIRE(got);
    return *got;
}

size_t openFds() {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) (void)e, ++n;
    return n;
}

healthcheck::TcpTarget target(std::uint16_t port, std::chrono::microseconds timeout = 2s) {
    return {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), {}, timeout};
}

std::uint16_t closedPort(asio::io_context& io) {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();  // closed again when `a` goes
}

std::unique_ptr<healthcheck::HttpProbe> http(asio::io_context& io, std::uint16_t port, healthcheck::HttpSpec spec) {
    std::string why;
    auto p = healthcheck::HttpProbe::create(io, target(port), std::move(spec), why);
    INFO(why);
    REQUIRE(p);
    return p;
}

}  // namespace

TEST_CASE("tcp: established is up, refused is down") {
    asio::io_context io;
    asio::ip::tcp::acceptor listener(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    healthcheck::TcpProbe up(io, target(listener.local_endpoint().port()));
    CHECK(runOnce(io, up).ok());
    healthcheck::TcpProbe down(io, target(closedPort(io)));
    CHECK(runOnce(io, down).failure == Failure::Refused);
}

// A listener with backlog 0 and nobody accepting, its queue filled: SYNs to it are dropped.
struct FullBacklog {
    int fd = -1;
    std::vector<int> fillers;
    std::uint16_t port = 0;
    FullBacklog() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(::listen(fd, 0) == 0);
        socklen_t len = sizeof sa;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
        for (int i = 0; i < 4; ++i) {
            fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            (void)::connect(fillers.back(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        }
    }
    ~FullBacklog() {
        for (int f : fillers) ::close(f);
        ::close(fd);
    }
};

TEST_CASE("tcp: a full backlog is a connect timeout, within the timeout") {
    asio::io_context io;
    FullBacklog full;
    healthcheck::TcpProbe p(io, target(full.port, 300ms));
    const auto start = std::chrono::steady_clock::now();
    const ProbeResult r = runOnce(io, p);
    CHECK(r.failure == Failure::Timeout);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("http: status, digest, regex, virtual host, chunked") {
    asio::io_context io;
    testutil::HttpServer srv(io);
    srv.script.body = "all systems go\n";
    healthcheck::HttpSpec spec;
    spec.path = "/health";
    spec.host = "www.example.com";
    spec.httpVersion = "1.1";
    auto p = http(io, srv.port(), spec);
    CHECK(runOnce(io, *p).ok());
    CHECK(srv.lastRequest.rfind("GET /health HTTP/1.1\r\nHost: www.example.com\r\n", 0) == 0);

    srv.script.status = 503;
    auto r = runOnce(io, *p);
    CHECK(r.failure == Failure::HttpStatus);
    CHECK(r.detail == 503);
    CHECK(r.describe() == "HTTP status 503");

    srv.script.status = 301;
    spec.statusCodes = {{200, 200}, {301, 302}};
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());

    srv.script.status = 200;
    spec.digest = healthcheck::md5Hex("all systems go\n");
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());
    srv.script.chunked = true;
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());
    srv.script.body = "something else\n";
    CHECK(runOnce(io, *http(io, srv.port(), spec)).failure == Failure::DigestMismatch);

    spec.digest.clear();
    spec.regex = "^some.*else";
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());
    spec.regexNoMatch = true;
    CHECK(runOnce(io, *http(io, srv.port(), spec)).failure == Failure::Regex);
}

TEST_CASE("http: the digest is keepalived's genhash value (MD5 of the body)") {
    CHECK(healthcheck::md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(healthcheck::md5Hex("The quick brown fox jumps over the lazy dog") == "9e107d9d372bb6826bd81d3542a419d6");
}

TEST_CASE("http: a bad regex is refused when the probe is made") {
    asio::io_context io;
    healthcheck::HttpSpec spec;
    spec.regex = "(unclosed";
    std::string why;
    CHECK_FALSE(healthcheck::HttpProbe::create(io, target(80), spec, why));
    CHECK(why.find("bad regex") == 0);
}

TEST_CASE("http: hostile servers end down, with the right reason, within the timeout") {
    asio::io_context io;
    testutil::HttpServer srv(io);
    healthcheck::HttpSpec spec;
    spec.readTimeout = 400ms;
    struct Case {
        Behaviour b;
        bool digest;
        Failure want;
    };
    const Case cases[] = {
        {Behaviour::Silent, false, Failure::Timeout},    {Behaviour::Trickle, false, Failure::Timeout},
        {Behaviour::Huge, true, Failure::BodyTooLarge},  {Behaviour::Garbage, false, Failure::HttpMalformed},
        {Behaviour::ResetMidway, false, Failure::Reset}, {Behaviour::CloseEarly, false, Failure::Closed},
    };
    for (const auto& c : cases) {
        srv.script = {};
        srv.script.behaviour = c.b;
        srv.script.delay = 100ms;
        auto s = spec;
        if (c.digest) s.digest = std::string(32, '0');
        auto p = http(io, srv.port(), s);
        const auto start = std::chrono::steady_clock::now();
        const ProbeResult r = runOnce(io, *p);
        INFO("behaviour " << static_cast<int>(c.b) << ": " << r.describe());
        CHECK(r.failure == c.want);
        CHECK(std::chrono::steady_clock::now() - start < 3s);
    }
    // Without a digest or regex the body is not read at all: 100 MB costs nothing.
    srv.script = {};
    srv.script.behaviour = Behaviour::Huge;
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());
}

TEST_CASE("https: SNI, verification against a CA file, handshake stall") {
    const std::string dir = std::filesystem::temp_directory_path() / ("probe-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
    testutil::makeSelfSigned("backend.test", cert, key);
    asio::io_context io;
    testutil::HttpServer srv(io, cert, key);
    healthcheck::HttpSpec spec;
    spec.tls = true;
    spec.readTimeout = 500ms;
    auto plain = http(io, srv.port(), spec);
    CHECK(runOnce(io, *plain).ok());  // no verification
    CHECK(runOnce(io, *plain).ok());
    CHECK(runOnce(io, *plain).ok());
    CHECK(plain->resumedHandshakes() == 2);  // the later checks resume the first session
    spec.verify = true;
    spec.caFile = cert;
    spec.sni = "backend.test";
    spec.host = "backend.test";
    CHECK(runOnce(io, *http(io, srv.port(), spec)).ok());
    spec.host = "other.test";  // the certificate does not name it
    CHECK(runOnce(io, *http(io, srv.port(), spec)).failure == Failure::TlsHandshake);
    spec.host = "backend.test";
    srv.script.behaviour = Behaviour::StallHandshake;
    const auto start = std::chrono::steady_clock::now();
    CHECK(runOnce(io, *http(io, srv.port(), spec)).failure == Failure::Timeout);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    std::filesystem::remove_all(dir);
}

TEST_CASE("script: exit codes, dynamic weight, output, timeout kills the process group") {
    asio::io_context io;
    auto script = [&](std::vector<std::string> argv, std::chrono::microseconds timeout = 5s, bool dyn = false) {
        return std::make_unique<healthcheck::ScriptProbe>(
            io, healthcheck::ScriptSpec{std::move(argv), "", timeout, dyn, std::nullopt});
    };
    CHECK(runOnce(io, *script({"/bin/true"})).ok());
    auto r = runOnce(io, *script({"/bin/sh", "-c", "echo 'disk full'; echo second; exit 3"}));
    CHECK(r.failure == Failure::ScriptExit);
    CHECK(r.detail == 3);
    CHECK(r.output == "disk full");
    r = runOnce(io, *script({"/bin/sh", "-c", "exit 12"}, 5s, true));
    CHECK(r.ok());
    CHECK(r.weight == 10);
    CHECK(runOnce(io, *script({"/bin/sh", "-c", "exit 1"}, 5s, true)).failure == Failure::ScriptExit);
    CHECK(runOnce(io, *script({"/nonexistent/check"})).failure == Failure::ScriptExit);  // exec failed: 127

    // A script that hangs, with a child of its own: both die at the timeout.
    const std::string pidFile = std::filesystem::temp_directory_path() / ("probe-child-" + std::to_string(getpid()));
    auto hang = script({"/bin/sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"}, 300ms);
    const auto start = std::chrono::steady_clock::now();
    r = runOnce(io, *hang);
    CHECK(r.failure == Failure::ScriptTimeout);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    std::ifstream in(pidFile);
    pid_t child = 0;
    in >> child;
    REQUIRE(child > 0);
    // The grandchild was in the group: it is gone (or a zombie about to be reaped by init).
    for (int i = 0; i < 100 && ::kill(child, 0) == 0; ++i) {
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string a, b, state;
        stat >> a >> b >> state;
        if (state == "Z" || state.empty()) break;
        std::this_thread::sleep_for(20ms);
    }
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string a, b, state;
    stat >> a >> b >> state;
    CHECK((state.empty() || state == "Z"));
    std::filesystem::remove(pidFile);
}

TEST_CASE("script: runs as the configured user when directord is root") {
    if (::geteuid() != 0) {
        WARN("not root: the user switch is not exercised");
        return;
    }
    asio::io_context io;
    healthcheck::ScriptProbe p(io, healthcheck::ScriptSpec{{"/usr/bin/id", "-un"}, "nobody", 5s, false, std::nullopt});
    const ProbeResult r = runOnce(io, p);
    CHECK(r.ok());
    CHECK(r.output == "nobody");
    healthcheck::ScriptProbe bad(
        io, healthcheck::ScriptSpec{{"/usr/bin/id"}, "no-such-user-here", 5s, false, std::nullopt});
    CHECK(runOnce(io, bad).failure == Failure::ScriptSpawn);
}

TEST_CASE("script: gets no descriptor of ours and a minimal environment") {
    asio::io_context io;
    // a listening socket without close-on-exec, as Asio opens them
    const int leak = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(leak > 2);
    healthcheck::ScriptProbe fds(
        io, healthcheck::ScriptSpec{{"/bin/sh", "-c",
                                     "for f in /proc/$$/fd/*; do n=${f##*/}; [ $n -gt 2 ] && readlink $f; done | "
                                     "tr '\\n' ' '; echo"},
                                    "",
                                    5s,
                                    false,
                                    std::nullopt});
    auto r = runOnce(io, fds);
    CHECK(r.ok());
    // past stdin, stdout and stderr only what the shell opened itself (the folder it lists, a pipe)
    INFO(r.output);
    CHECK(r.output.find("socket:") == std::string::npos);
    healthcheck::ScriptProbe env(
        io, healthcheck::ScriptSpec{{"/bin/sh", "-c", "env | sort | tr '\\n' ' '"}, "", 5s, false, std::nullopt});
    ::setenv("DIRECTORD_SECRET_FOR_TEST", "leaked", 1);
    r = runOnce(io, env);
    ::unsetenv("DIRECTORD_SECRET_FOR_TEST");
    CHECK(r.ok());
    CHECK(r.output.find("DIRECTORD_SECRET_FOR_TEST") == std::string::npos);
    CHECK(r.output.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") != std::string::npos);
    CHECK(r.output.find("LANG=C") != std::string::npos);
    ::close(leak);
}

TEST_CASE("script: as root, a program others can change does not run (script_security at exec)") {
    if (::geteuid() != 0) {
        WARN("not root: script_security is not exercised");
        return;
    }
    asio::io_context io;
    const std::string dir = "/var/tmp/probe-sec-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0777);
    const std::string prog = dir + "/check";
    { std::ofstream(prog) << "#!/bin/sh\nexit 0\n"; }
    ::chmod(prog.c_str(), 0755);
    healthcheck::ScriptSpec spec{{prog}, "", 5s, false, std::nullopt};
    healthcheck::ScriptProbe refused(io, spec);
    auto r = runOnce(io, refused);
    CHECK(r.failure == Failure::ScriptSpawn);
    CHECK(r.output.find(dir + " is writable by group or others") != std::string::npos);
    spec.scriptSecurity = false;  // the operator said so
    healthcheck::ScriptProbe allowed(io, spec);
    CHECK(runOnce(io, allowed).ok());
    std::filesystem::remove_all(dir);
}


TEST_CASE("connect engine: many at once, each answered once, cancelled ones never, timeouts in order") {
    asio::io_context io;
    auto& engine = healthcheck::ConnectEngine::of(io);
    asio::ip::tcp::acceptor listener(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), true);
    listener.listen(1024);
    const auto refused = closedPort(io);
    FullBacklog full;
    const size_t baseline = openFds();
    auto ep = [](std::uint16_t port) { return asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port); };
    std::map<int, int> calls;  // connect number -> times `done` ran
    std::map<int, boost::system::error_code> results;
    std::vector<healthcheck::ConnectEngine::Handle> handles;
    std::vector<std::pair<int, base::TimePoint>> timedOut;
    const auto start = base::Clock::now();
    for (int i = 0; i < 300; ++i) {
        const int kind = i % 3;  // 0: up, 1: refused, 2: dropped (two timeouts)
        const auto timeout = kind == 2 ? (i % 2 ? 400ms : 200ms) : 5s;
        handles.push_back(engine.connect(ep(kind == 0 ? listener.local_endpoint().port() : kind == 1 ? refused : full.port),
                                         {}, timeout, [&, i](int fd, const boost::system::error_code& ec) {
                                             ++calls[i];
                                             results[i] = ec;
                                             if (ec == asio::error::timed_out) timedOut.emplace_back(i, base::Clock::now());
                                             CHECK((fd >= 0) == !ec);
                                             healthcheck::abortiveClose(fd);
                                         }));
    }
    for (int i = 0; i < 300; i += 10) engine.cancel(handles[static_cast<size_t>(i)]);  // 30 cancelled
    engine.cancel(handles[0]);                                                          // twice: ignored
    std::function<void()> accept = [&] {
        listener.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket) {
            if (!ec) accept();
        });
    };
    accept();
    io.run_for(1500ms);
    CHECK(engine.pending() == 0);
    for (int i = 0; i < 300; ++i) {
        INFO("connect " << i);
        if (i % 10 == 0) {
            CHECK(calls.count(i) == 0);
            continue;
        }
        REQUIRE(calls[i] == 1);
        if (i % 3 == 0) CHECK_FALSE(results[i]);
        if (i % 3 == 1) CHECK(results[i] == asio::error::connection_refused);
        if (i % 3 == 2) CHECK(results[i] == asio::error::timed_out);
    }
    // the 200 ms ones all came before the 400 ms ones, each within its timeout plus a few grains
    REQUIRE(timedOut.size() == 90);  // 40 short (even numbers), 50 long
    for (size_t k = 0; k < timedOut.size(); ++k) {
        const bool shortOne = timedOut[k].first % 2 == 0;
        CHECK(shortOne == (k < 40));
        const auto took = timedOut[k].second - start;
        CHECK(took >= (shortOne ? 200ms : 400ms));
        CHECK(took < (shortOne ? 350ms : 550ms));
    }
    listener.close();
    io.restart();
    io.run_for(50ms);
    CHECK(openFds() <= baseline + 1);
}

TEST_CASE("connect engine: a probe destroyed mid-connect is never called back and leaks nothing") {
    asio::io_context io;
    FullBacklog full;
    auto& engine = healthcheck::ConnectEngine::of(io);
    const size_t baseline = openFds();
    bool called = false;
    {
        healthcheck::TcpProbe p(io, target(full.port, 200ms));
        p.run([&](ProbeResult) { called = true; });
        CHECK(engine.pending() == 1);
    }
    CHECK(engine.pending() == 0);
    io.run_for(400ms);
    CHECK_FALSE(called);
    CHECK(openFds() == baseline);
}

TEST_CASE("descriptors return to their baseline after 10,000 failed checks") {
    asio::io_context io;
    testutil::HttpServer srv(io);
    const auto refused = closedPort(io);
    healthcheck::HttpSpec spec;
    spec.readTimeout = 2s;
    auto httpProbe = http(io, srv.port(), spec);
    healthcheck::TcpProbe tcpRefused(io, target(refused));
    const size_t baseline = openFds();
    const Behaviour modes[] = {Behaviour::Garbage, Behaviour::ResetMidway, Behaviour::CloseEarly, Behaviour::Normal};
    int failures = 0;
    for (int i = 0; i < 10000; ++i) {
        if (i % 2 == 0) {
            failures += !runOnce(io, tcpRefused).ok();
        } else {
            srv.script = {};
            srv.script.behaviour = modes[(i / 2) % 4];
            srv.script.status = 500;
            failures += !runOnce(io, *httpProbe).ok();
        }
    }
    CHECK(failures == 10000);
    // Let the server side finish closing its ends.
    io.restart();
    io.run_for(200ms);
    CHECK(openFds() <= baseline + 2);  // the server may hold its last connection
}
