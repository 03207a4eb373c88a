// script_security (keepalived's): a command that runs as root must be a program no one but root
// can change or replace. Checked at load for every command in the config (check scripts,
// vrrp_scripts, notify, quorum and omega scripts), so a bad one is a `file:line` error before
// anything runs, and again by the runners just before they exec (the file may change meanwhile).
#pragma once
#include <string>
#include <vector>

#include "conf/Config.h"
#include "conf/Diagnostic.h"

namespace conf {

// Every command the config runs: its setting (for a diagnostic), what it is (for a log line), the
// user it names (empty: global.script_user), and whether the vrrp worker runs it (else the lvs
// worker). The one list that script_security and each worker's privileges are decided from.
struct ScriptCommand {
    const Command* cmd;
    std::string user;
    std::string what;   // "vrrp_scripts[0].script"
    std::string label;  // "vrrp_script chk"
    Location where;
    bool vrrp;
};
std::vector<ScriptCommand> scriptCommands(const Config& cfg);

// The users commands run as (their own `user`, or global.script_user), looked up once; adds a
// diagnostic for every user that does not exist and, when script_security is on, for every
// command that would run as root and is not base::safeForRoot.
void checkScripts(const Config& cfg, Diagnostics& out);

}  // namespace conf
