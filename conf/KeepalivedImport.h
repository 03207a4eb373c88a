// The keepalived.conf importer (`directord --import-keepalived FILE`): reads a keepalived
// configuration (KeepalivedParser.h), builds the equivalent conf::Config and prints it in the
// config language, only what differs from directord's defaults (Dump.h, dumpMinimal). Where
// keepalived's defaults differ from directord's (warmup, a check's delay before retry, script
// timeouts, the user scripts run as), the import writes keepalived's value out, so the imported
// director behaves as the keepalived one did. Every keyword it cannot carry over is reported as
// `file:line: keyword: why`; the output is loaded back with the real loader, and what that says
// (a script missing on this machine) is reported too.
#pragma once
#include <string>

#include "conf/Diagnostic.h"

namespace conf {

struct ImportResult {
    std::string text;        // the directord configuration
    Diagnostics left;        // keywords not carried over (and syntax problems)
    Diagnostics notes;       // carried over, with a difference worth knowing (also in `text`, as comments)
    Diagnostics loadErrors;  // what the loader says of `text` here
    bool readable = true;    // false: the file itself could not be read
    bool complete() const { return readable && left.empty() && loadErrors.empty(); }
};

// keepalived's default config id (for `@ID` lines): the host name.
std::string keepalivedConfigId();

ImportResult importKeepalived(const std::string& path, const std::string& configId = keepalivedConfigId());
ImportResult importKeepalivedString(const std::string& text, const std::string& name,
                                    const std::string& configId = keepalivedConfigId());

}  // namespace conf
