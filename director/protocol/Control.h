// The control socket's protocol (global.control_socket, a unix socket only root can use): one
// request frame from the client, one reply frame from directord, then the connection closes.
// Spoken by directorctl, ipvsctl (its commands against directord's plane) and the lvs worker's
// ControlServer; nothing else builds or parses these bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/Result.h"
#include "director/protocol/Frame.h"

namespace director::protocol {

struct ControlRequest {
    enum class Kind : std::uint8_t {
        Status,   // the state: a summary, or with `json` the whole of it (what SIGUSR1 writes)
        Ipvsadm,  // ipvsctl's arguments, run against the plane; `input` feeds -R
        Vrrp,     // the VRRP instances (a table, or JSON)
        Servers,  // the real servers: state, weights, health and why, since when
        Disable,  // args: VS RS. Weight 0 until enabled, across reloads
        Enable,   // args: VS RS. Undo a Disable
        Reload,   // read and check the config file; apply it, or answer every error
        Withdraw,  // the whole director: every announced VIP withdrawn (global.announce)
        Rejoin,    // undo Withdraw: announce again what is ready
    };
    Kind kind = Kind::Status;
    std::vector<std::string> args;
    std::string input;
    bool json = false;  // Status, Vrrp, Servers: JSON instead of a table
    bool operator==(const ControlRequest&) const = default;
};

// Exit statuses of directorctl's commands (directorctl(8)).
inline constexpr int kCtlOk = 0;
inline constexpr int kCtlRefused = 1;      // directord answered with an error (bad config, unknown server)
inline constexpr int kCtlUsage = 2;        // not a command directorctl knows
inline constexpr int kCtlUnreachable = 3;  // no directord answers on the control socket

struct ControlReply {
    int status = 0;  // the command's exit status
    std::string out, err;
    bool operator==(const ControlReply&) const = default;
};

inline constexpr std::uint8_t kControlRequest = 64;
inline constexpr std::uint8_t kControlReply = 65;
inline constexpr size_t kMaxControlFrame = 64u << 20;  // ipvsctl -R input

std::string encode(const ControlRequest& r);
std::string encode(const ControlReply& r);
std::optional<ControlRequest> decodeRequest(const Frame& f);
std::optional<ControlReply> decodeReply(const Frame& f);

// The client's side: connects to `socketPath`, sends `request`, waits for the reply (blocking).
// Errors: ENOENT/ECONNREFUSED when no directord listens there, EPROTO for a reply that is not one.
base::Result<ControlReply> call(const std::string& socketPath, const ControlRequest& request);

}  // namespace director::protocol
