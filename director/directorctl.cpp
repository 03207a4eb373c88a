// directorctl: asks a running directord over its control socket (director/protocol/Control.h).
//   directorctl [-s SOCKET] status     the state as JSON (services, real servers, checks, VRRP roles)
#include <cstdio>
#include <cstring>
#include <string>

#include "director/protocol/Control.h"

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
    director::protocol::ControlRequest req;
    req.kind = director::protocol::ControlRequest::Kind::Status;
    const auto reply = director::protocol::call(path, req);
    if (!reply) {
        const auto ec = reply.error();
        if (ec.value() == EPROTO) std::fprintf(stderr, "directorctl: directord closed without an answer\n");
        else
            std::fprintf(stderr,
                         "directorctl: cannot reach directord at %s: %s (is it running? same control_socket?)\n",
                         path.c_str(), ec.message().c_str());
        return 1;
    }
    std::fputs(reply->out.c_str(), stdout);
    std::fputs(reply->err.c_str(), stderr);
    return reply->status;
}
