// What the workers' seccomp filters cost on the forwarding path: the system calls a relay makes
// (epoll_wait, recv and send on a stream socket), timed in a child with no filter and in children
// with the fwd worker's filter and the status worker's (the one with argument rules), as each
// worker installs it (director/Privileges.cpp). Rounds alternate between the three so the
// machine's drift hits all alike; the best round of each is compared. The kernel caches the
// verdict of a syscall a filter allows whatever its arguments (Linux 5.11 and later), so the
// expected cost is noise; this shows it, as ratios. Root: the filters are installed for real.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "director/Privileges.h"

namespace {

namespace priv = director::privileges;

constexpr int kIterations = 400000;

// ns per relay step (epoll_wait + send + recv), measured in a forked child with `w`'s filter.
double measure(int mode) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) std::exit(2);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        std::string why;
        if (mode == 1 && !priv::installFilter(priv::Worker::Fwd, false, why)) std::_Exit(3);
        if (mode == 2 && !priv::installFilter(priv::Worker::Status, false, why)) std::_Exit(3);
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) std::_Exit(4);
        const int ep = ::epoll_create1(0);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = sv[1];
        ::epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
        char buf[512] = {};
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kIterations; ++i) {
            if (::send(sv[0], buf, sizeof buf, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof buf)) std::_Exit(5);
            epoll_event out[4];
            if (::epoll_wait(ep, out, 4, 0) != 1) std::_Exit(6);
            if (::recv(sv[1], buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) std::_Exit(7);
        }
        const double ns =
            std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kIterations;
        (void)!::write(pipefd[1], &ns, sizeof ns);
        std::_Exit(0);
    }
    ::close(pipefd[1]);
    double ns = 0;
    const bool got = ::read(pipefd[0], &ns, sizeof ns) == static_cast<ssize_t>(sizeof ns);
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "seccomp bench: the child for mode %d failed (status %d)\n", mode, status);
        std::exit(1);
    }
    return ns;
}

}  // namespace

int main() {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "seccomp bench: run as root (the filters are installed for real)\n");
        return 1;
    }
    double best[3] = {1e18, 1e18, 1e18};
    const int rounds = 5;
    for (int r = 0; r < rounds; ++r)
        for (int mode = 0; mode < 3; ++mode) best[mode] = std::min(best[mode], measure(mode));
    std::printf("seccomp benchmark: %d relay steps (epoll_wait + send + recv of 512 bytes), best of %d rounds\n",
                kIterations, rounds);
    std::printf("  no filter            %.0f ns/step\n", best[0]);
    std::printf("  fwd worker's filter  %.0f ns/step\n", best[1]);
    std::printf("  status worker's      %.0f ns/step\n", best[2]);
    std::printf("ratio fwd filter / none %.3f; status filter / none %.3f\n", best[1] / best[0], best[2] / best[0]);
    return 0;
}
