// ipvsctl: ipvsadm's command line against the kernel or the userspace plane. This build prints its
// usage only: the commands arrive with the kernel netlink backend.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    const bool help = argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0);
    std::FILE* out = help ? stdout : stderr;
    std::fprintf(out,
                 "ipvsctl " DIRECTORD_VERSION " (ipvsadm-compatible)\n"
                 "Usage:\n"
                 "  ipvsctl -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
                 "  ipvsctl -D virtual-service\n"
                 "  ipvsctl -C\n"
                 "  ipvsctl -R\n"
                 "  ipvsctl -S [-n]\n"
                 "  ipvsctl -a|e virtual-service -r server-address [options]\n"
                 "  ipvsctl -d virtual-service -r server-address\n"
                 "  ipvsctl -L|l [virtual-service] [options]\n"
                 "  ipvsctl -Z [virtual-service]\n"
                 "  ipvsctl --set tcp tcpfin udp\n"
                 "  ipvsctl --start-daemon {master|backup} [daemon-options]\n"
                 "  ipvsctl --stop-daemon {master|backup}\n"
                 "  ipvsctl -h\n"
                 "This build has no data plane to talk to yet: the kernel netlink backend and the control\n"
                 "socket to the userspace plane are still to come. Use ipvsadm meanwhile.\n");
    return help ? 0 : 2;
}
