// directorctl: asks a running directord over its control socket.
//   directorctl [-s SOCKET] status     the state as JSON (services, real servers, checks, VRRP roles)
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    std::string path = "/run/directord.sock", command;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "-s" || a == "--socket") && i + 1 < argc) path = argv[++i];
        else if (a == "-h" || a == "--help") {
            std::printf(
                "Usage: directorctl [-s SOCKET] status\n"
                "  status   the running directord's state as JSON (what SIGUSR1 writes)\n"
                "  -s       the control socket (default /run/directord.sock, global.control_socket)\n");
            return 0;
        } else command = a;
    }
    if (command != "status") {
        std::fprintf(stderr, "directorctl: unknown command '%s' (try: directorctl status)\n", command.c_str());
        return 2;
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        std::fprintf(stderr, "directorctl: socket path too long: %s\n", path.c_str());
        return 2;
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        std::fprintf(stderr, "directorctl: cannot reach directord at %s: %s (is it running? same control_socket?)\n",
                     path.c_str(), std::strerror(errno));
        return 1;
    }
    const std::string req = command + "\n";
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return 1;
    char buf[65536];
    ssize_t n;
    std::string out;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (out.empty()) {
        std::fprintf(stderr, "directorctl: directord closed without an answer\n");
        return 1;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}
