// directorctl: asks a running directord over its control socket (director/protocol/Control.h).
// The daemon answers each command; this program only parses the command line and prints.
// Exit statuses (directorctl(8)): 0 done, 1 directord refused (a config with errors, an unknown
// server), 2 usage, 3 no directord answers on the socket.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "director/protocol/Control.h"

namespace {

using director::protocol::ControlRequest;
using K = ControlRequest::Kind;

void usage(std::FILE* out) {
    std::fputs(
        "Usage: directorctl [-s SOCKET] [--json] [COMMAND [ARGS]]\n"
        "  status             the daemon, its VRRP instances and virtual servers (the default)\n"
        "  vrrp               every VRRP instance: state, priorities, master, adverts, drops\n"
        "  servers            every real server: state, weight in force / configured, connections,\n"
        "                     since when, and why\n"
        "  disable VS RS      disable a real server: weight 0, no new connections, established ones go on;\n"
        "                     holds across reloads until `enable` (VS as 10.0.0.1:80/tcp or fwmark:5,\n"
        "                     RS as 10.0.1.5:8080)\n"
        "  enable VS RS       undo disable (the weight comes back through the server's slow_start)\n"
        "  reload             read and check the config file, then apply it; with errors, print each\n"
        "                     one and keep the running config\n"
        "  withdraw           withdraw every announced VIP (global.announce): the routers send this\n"
        "                     director nothing new; holds until rejoin\n"
        "  rejoin             announce again what is ready to be served\n"
        "  -s, --socket PATH  the control socket (default /run/directord.sock, global.control_socket)\n"
        "  --json             status, vrrp, servers: JSON (status: the whole state, as SIGUSR1 writes)\n"
        "Exit status: 0 done, 1 directord refused (config errors, unknown server), 2 usage,\n"
        "3 no directord answers on the socket.\n",
        out);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace director::protocol;
    std::string path = "/run/directord.sock";
    ControlRequest req;
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "-s" || a == "--socket") && i + 1 < argc) path = argv[++i];
        else if (a == "--json" || a == "-j") req.json = true;
        else if (a == "-h" || a == "--help" || a == "help") {
            usage(stdout);
            return kCtlOk;
        } else if (a.size() > 1 && a[0] == '-' && words.empty()) {
            std::fprintf(stderr, "directorctl: unknown option '%s'\n", a.c_str());
            usage(stderr);
            return kCtlUsage;
        } else words.push_back(a);
    }
    static const std::map<std::string, std::pair<K, size_t>> commands = {
        {"status", {K::Status, 0}},   {"vrrp", {K::Vrrp, 0}},       {"servers", {K::Servers, 0}},
        {"disable", {K::Disable, 2}}, {"enable", {K::Enable, 2}},   {"reload", {K::Reload, 0}},
        {"withdraw", {K::Withdraw, 0}}, {"rejoin", {K::Rejoin, 0}},
    };
    const std::string command = words.empty() ? "status" : words[0];
    const auto it = commands.find(command);
    if (it == commands.end()) {
        std::fprintf(stderr, "directorctl: unknown command '%s'\n", command.c_str());
        usage(stderr);
        return kCtlUsage;
    }
    const size_t args = words.empty() ? 0 : words.size() - 1;
    if (args != it->second.second) {
        std::fprintf(stderr, "directorctl: %s takes %zu argument(s), got %zu%s\n", command.c_str(), it->second.second,
                     args, it->second.second == 2 ? " (VIRTUAL-SERVER REAL-SERVER)" : "");
        return kCtlUsage;
    }
    req.kind = it->second.first;
    if (args) req.args.assign(words.begin() + 1, words.end());
    const auto reply = call(path, req);
    if (!reply) {
        const auto ec = reply.error();
        if (ec.value() == EPROTO) std::fprintf(stderr, "directorctl: directord closed without an answer\n");
        else
            std::fprintf(stderr,
                         "directorctl: cannot reach directord at %s: %s (is it running? same control_socket? root?)\n",
                         path.c_str(), ec.message().c_str());
        return kCtlUnreachable;
    }
    std::fputs(reply->out.c_str(), stdout);
    std::fputs(reply->err.c_str(), stderr);
    return reply->status;
}
