// Logging: one line per event, to stderr (the default: systemd and tests read it) or syslog.
// Lines say subsystem and identity first, then what changed and why (STYLE.md, 7):
//   2026-11-26T09:00:00.123Z lvs[4242] info: reload: 2 virtual servers kept, 1 added
// Thread-safe; each line is written with one write(2) so workers sharing stderr never interleave.
#pragma once
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace base::log {

enum class Level { Debug = 0, Info = 1, Notice = 2, Warning = 3, Error = 4 };

std::optional<Level> parseLevel(std::string_view name);
const char* levelName(Level l);

// Process-wide settings. `identity` names the process in each line ("directord", "lvs", "vrrp").
void setLevel(Level l);
Level level();
void setIdentity(std::string identity);
void useSyslog(bool on);
// Tests capture lines instead of writing them.
void setSink(void (*sink)(Level, const std::string&));

void write(Level l, const std::string& message);

// `text` with every control character and NUL written out (\n, \t, \r, else \xNN), so a
// line from a script's output or a peer's bytes stays one line and cannot forge another. write()
// applies it to every line it puts out.
std::string escapeControl(std::string_view text);

template <class... Args>
void emit(Level l, const Args&... args) {
    if (l < level()) return;
    std::ostringstream os;
    (os << ... << args);
    write(l, os.str());
}

template <class... Args>
void debug(const Args&... a) {
    emit(Level::Debug, a...);
}
template <class... Args>
void info(const Args&... a) {
    emit(Level::Info, a...);
}
template <class... Args>
void notice(const Args&... a) {
    emit(Level::Notice, a...);
}
template <class... Args>
void warning(const Args&... a) {
    emit(Level::Warning, a...);
}
template <class... Args>
void error(const Args&... a) {
    emit(Level::Error, a...);
}

// Broken invariant: log with the function name and abort (STYLE.md, 4).
[[noreturn]] void fatal(const char* func, const std::string& message);

}  // namespace base::log

#define DIRECTORD_ASSERT(cond, msg)                     \
    do {                                                \
        if (!(cond)) ::base::log::fatal(__func__, msg); \
    } while (0)
