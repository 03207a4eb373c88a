// ipvsctl: ipvsadm's command line and output formats. This build reads the table of a running
// directord (whichever data plane it runs) over its control socket: the list formats (-L/-l with
// -n, --stats, --rate, --thresholds, --persistent-conn, --tun-info, --exact, one service),
// --timeout and -S. Changing the table by hand, and the kernel directly, come with the kernel
// netlink backend.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "ipvsctl " DIRECTORD_VERSION " (ipvsadm-compatible)\n"
                 "Usage:\n"
                 "  ipvsctl -L|l [virtual-service] [options]   list the table\n"
                 "  ipvsctl -S [-n]                            save the table as ipvsadm -R input\n"
                 "  ipvsctl -L --timeout                       the connection timeouts\n"
                 "  ipvsctl -L -c [--persistent-conn]          the connection table\n"
                 "List options: -n --stats --rate --thresholds --persistent-conn --tun-info --exact\n"
                 "Virtual service: -t|-u|--sctp-service address:port, or -f fwmark [-6]\n"
                 "The table is read from the running directord (control socket $DIRECTORD_SOCKET,\n"
                 "default /run/directord.sock). Editing commands (-A -E -D -a -e -d -C -R -Z --set,\n"
                 "--start-daemon) and the kernel table come with the kernel netlink backend; use ipvsadm\n"
                 "or directord's configuration meanwhile.\n");
}

int ask(const std::string& request) {
    const char* env = std::getenv("DIRECTORD_SOCKET");
    const std::string path = env && *env ? env : "/run/directord.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return 2;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        std::fprintf(stderr, "ipvsctl: cannot reach directord at %s: %s\n", path.c_str(), std::strerror(errno));
        return 1;
    }
    const std::string line = request + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (out.rfind("error: ", 0) == 0) {
        std::fprintf(stderr, "%s", out.substr(7).c_str());
        return 1;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        // clusters of flag letters, as getopt takes them: -Lnc is -L -n -c
        const std::string a = argv[i];
        if (a.size() > 2 && a[0] == '-' && a[1] != '-' && a.find_first_not_of("LlnSc", 1) == std::string::npos) {
            for (size_t k = 1; k < a.size(); ++k) args.push_back(std::string("-") + a[k]);
        } else {
            args.push_back(a);
        }
    }
    if (args.empty()) {
        usage(stderr);
        return 2;
    }
    enum { None, List, Save } cmd = None;
    bool timeout = false, connections = false;
    std::string options, service;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "ipvsctl: option %s needs an argument\n", a.c_str());
                std::exit(2);
            }
            return args[++i];
        };
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "-L" || a == "-l" || a == "--list") cmd = List;
        else if (a == "-S" || a == "--save") cmd = Save;
        else if (a == "-c" || a == "--connection") connections = true;
        else if (a == "-n" || a == "--numeric") continue;
        else if (a == "--stats") options += " stats";
        else if (a == "--rate") options += " rate";
        else if (a == "--thresholds") options += " thresholds";
        else if (a == "--persistent-conn") options += " persistent-conn";
        else if (a == "--tun-info") options += " tun-info";
        else if (a == "--exact") options += " exact";
        else if (a == "--timeout") timeout = true;
        else if (a == "-t" || a == "--tcp-service") service = " service tcp " + next();
        else if (a == "-u" || a == "--udp-service") service = " service udp " + next();
        else if (a == "--sctp-service") service = " service sctp " + next();
        else if (a == "-f" || a == "--fwmark-service") service = " fwmark " + next() + " 4";
        else if (a == "-6" || a == "--ipv6") {
            if (service.rfind(" fwmark ", 0) == 0) service.back() = '6';
        } else {
            std::fprintf(stderr, "ipvsctl: '%s' is not available in this build (only listing); see ipvsctl -h\n", a.c_str());
            return 2;
        }
    }
    if (cmd == List && timeout) return ask("ipvs-timeout");
    if (cmd == List && connections)
        return ask(std::string("ipvs-conns") + (options.find("persistent-conn") != std::string::npos ? " persistent-conn" : ""));
    if (cmd == List) return ask("ipvs-list" + options + service);
    if (cmd == Save) return ask("ipvs-save");
    usage(stderr);
    return 2;
}
