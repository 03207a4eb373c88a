// ipvsctl: ipvsadm's command line and output formats (ipvsadm 1.31). Against the kernel's IPVS
// directly when the kernel has it (as ipvsadm), otherwise against the running directord's plane
// over its control socket ($DIRECTORD_SOCKET, default /run/directord.sock; setting the variable
// also sends the commands to directord when the kernel has IPVS).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "kmod/ipvsadm/Ipvsadm.h"
#include "kmod/netlink/NetlinkIpvsTable.h"

namespace {

bool writeAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

int viaDaemon(const std::string& path, const std::vector<std::string>& args, bool restore) {
    std::string payload;
    for (const auto& a : args) {
        if (a.find('\0') != std::string::npos) return 2;
        payload += a;
        payload.push_back('\0');
    }
    payload.push_back('\0');
    if (restore) payload.append(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return 2;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        std::fprintf(stderr,
                     "ipvsctl: this kernel has no IPVS, and no directord answers at %s (%s); start directord, or set"
                     " DIRECTORD_SOCKET to its control_socket\n",
                     path.c_str(), std::strerror(errno));
        return 1;
    }
    if (!writeAll(fd, "ipvsadm " + std::to_string(payload.size()) + "\n" + payload)) return 1;
    std::string reply;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
    ::close(fd);
    const auto nl = reply.find('\n');
    int status = 1;
    size_t outLen = 0;
    if (nl == std::string::npos || std::sscanf(reply.c_str(), "%d %zu", &status, &outLen) != 2 ||
        nl + 1 + outLen > reply.size()) {
        std::fprintf(stderr, "ipvsctl: unexpected answer from directord: %s\n", reply.substr(0, 200).c_str());
        return 1;
    }
    std::fwrite(reply.data() + nl + 1, 1, outLen, stdout);
    std::fwrite(reply.data() + nl + 1 + outLen, 1, reply.size() - nl - 1 - outLen, stderr);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(kmod::ipvsadmUsage("ipvsctl").c_str(), stderr);
        return 2;
    }
    std::string error;
    const auto cmd = kmod::parseIpvsadm(args, error);
    if (!cmd) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    if (cmd->kind == kmod::IpvsadmCommand::Kind::Help) {
        std::fputs(kmod::ipvsadmUsage("ipvsctl").c_str(), stdout);
        return 0;
    }
    const char* env = std::getenv("DIRECTORD_SOCKET");
    if (!env || !*env) {
        if (auto kernel = kmod::NetlinkIpvsTable::open()) {
            auto& table = *kernel.value();
            const auto r = kmod::runIpvsadm(*cmd, table, &std::cin);
            std::fputs(r.out.c_str(), stdout);
            std::fputs(r.err.c_str(), stderr);
            return r.status;
        }
    }
    return viaDaemon(env && *env ? env : "/run/directord.sock", args, cmd->kind == kmod::IpvsadmCommand::Kind::Restore);
}
