// Whether a program is safe to run as root (keepalived's script_security), for the config's
// load-time check and for every runner just before it execs.
#pragma once
#include <string>
#include <vector>

namespace base {

// True when `program` (an absolute path) is safe to run as root: every directory on the way to it
// and the file itself are owned by root and writable by no one else (a directory with the sticky
// bit may be writable by others if the entry in it is root's), and every symbolic link on the way
// (itself root's, in such a directory) leads to a path that is safe the same way. A path that does
// not exist yet is safe when only root could create it. Otherwise false, with `why`.
bool safeForRoot(const std::string& program, std::string& why);

// A whole command: its program, and, when the program is an interpreter (sh, bash, python3, perl,
// env, ...), the script it is given as its first operand, checked as safeForRoot checks a program
// (a relative script path is refused: where it resolves depends on the working directory).
bool commandSafeForRoot(const std::vector<std::string>& argv, std::string& why);
bool scriptSafe(const std::string& script, const std::string& interpreter, std::string& why);

}  // namespace base
