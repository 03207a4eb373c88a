// ipvsctl: ipvsadm's command line and output formats (ipvsadm 1.31). Against the kernel's IPVS
// directly when the kernel has it (as ipvsadm), otherwise against the running directord's plane
// over its control socket ($DIRECTORD_SOCKET, default /run/directord.sock; setting the variable
// also sends the commands to directord when the kernel has IPVS).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "director/protocol/Control.h"
#include "kmod/ipvsadm/Ipvsadm.h"
#include "kmod/netlink/NetlinkIpvsTable.h"

namespace {

int viaDaemon(const std::string& path, const std::vector<std::string>& args, bool restore) {
    director::protocol::ControlRequest req;
    req.kind = director::protocol::ControlRequest::Kind::Ipvsadm;
    req.args = args;
    if (restore) req.input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    const auto reply = director::protocol::call(path, req);
    if (!reply) {
        if (reply.error().value() == EPROTO) {
            std::fprintf(stderr, "ipvsctl: unexpected answer from directord at %s\n", path.c_str());
            return 1;
        }
        std::fprintf(stderr,
                     "ipvsctl: this kernel has no IPVS, and no directord answers at %s (%s); start directord, or set"
                     " DIRECTORD_SOCKET to its control_socket\n",
                     path.c_str(), reply.error().message().c_str());
        return 1;
    }
    std::fwrite(reply->out.data(), 1, reply->out.size(), stdout);
    std::fwrite(reply->err.data(), 1, reply->err.size(), stderr);
    return reply->status;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    std::string error;
    int status = 2;
    const auto cmd = kmod::ipvsadm::parseIpvsadm(args, error, &status);
    if (!cmd) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return status;
    }
    if (cmd->kind == kmod::ipvsadm::IpvsadmCommand::Kind::Help) {
        std::fputs(kmod::ipvsadm::ipvsadmUsage("ipvsctl").c_str(), stdout);
        return 0;
    }
    const char* env = std::getenv("DIRECTORD_SOCKET");
    if (!env || !*env) {
        if (auto kernel = kmod::netlink::NetlinkIpvsTable::open()) {
            auto& table = *kernel.value();
            const auto r = kmod::ipvsadm::runIpvsadm(*cmd, table, &std::cin);
            std::fputs(r.out.c_str(), stdout);
            std::fputs(r.err.c_str(), stderr);
            return r.status;
        }
    }
    return viaDaemon(env && *env ? env : "/run/directord.sock", args, cmd->kind == kmod::ipvsadm::IpvsadmCommand::Kind::Restore);
}
