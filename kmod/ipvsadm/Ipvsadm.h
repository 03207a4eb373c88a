// ipvsadm's command line (1.31) as a value, and its execution against any IpvsTable: ipvsctl runs
// it against the kernel directly, or ships the arguments to directord, which runs the same code
// against its own plane. Output and errors read like ipvsadm's.
#pragma once
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "kmod/IpvsTable.h"
#include "kmod/ipvsadm/IpvsadmFormat.h"

namespace kmod::ipvsadm {

struct IpvsadmCommand {
    enum class Kind {
        AddService,
        EditService,
        DelService,
        Clear,
        Restore,
        Save,
        AddDest,
        EditDest,
        DelDest,
        List,
        Zero,
        SetTimeouts,
        StartDaemon,
        StopDaemon,
        Help,
        Version
    };
    Kind kind = Kind::Help;
    bool hasService = false;
    Service service;
    Dest dest;
    ListOptions list;
    bool connections = false, showTimeouts = false, showDaemons = false, nosort = false;
    Timeouts timeouts{0, 0, 0};
    SyncDaemon daemon;
};

// nullopt with `error` set (ipvsadm 1.31's wording) when the arguments are not a command;
// `status` gets ipvsadm's exit status for it (2, or 255 for an unknown option). Table-driven
// (IpvsadmParser.cpp): ipvsadm's option table and its command x option legality matrix.
std::optional<IpvsadmCommand> parseIpvsadm(const std::vector<std::string>& args, std::string& error,
                                           int* status = nullptr, const char* program = "ipvsctl");

struct IpvsadmResult {
    int status = 0;
    std::string out, err;
};
// Runs one command on `table` (its sync daemons and info where the plane has them); `restoreInput`
// feeds -R.
IpvsadmResult runIpvsadm(const IpvsadmCommand& c, IpvsTable& table, std::istream* restoreInput);

// Splits a line of ipvsadm -R input into arguments (whitespace; no quoting, as ipvsadm).
std::vector<std::string> splitArgs(const std::string& line);

std::string ipvsadmUsage(const char* program);

}  // namespace kmod::ipvsadm
