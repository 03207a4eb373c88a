// keepalived.conf's syntax, read as keepalived reads it, for the importer (KeepalivedImport.h):
// words separated by whitespace, "double quotes" keeping one word, `#` and `!` starting a comment
// anywhere outside quotes, `{ ... }` blocks (on one line or many), a trailing `\` joining lines,
// `include PATTERN` (a glob, relative to the including file's folder), `$NAME=value` definitions
// replacing `$NAME` and `${NAME}` afterwards, and `@ID` / `@^ID` lines kept only when the config
// id matches (or does not). The result is a tree of statements, each with where it was written.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/Diagnostic.h"

namespace conf::keepalived {

struct Word {
    std::string text;
    bool quoted = false;
};

struct Node {
    std::string keyword;
    std::vector<Word> args;
    std::vector<Node> children;
    bool block = false;  // had { ... } (possibly empty)
    std::string file;
    int line = 0;
    std::string source;  // the line as written (after comments and definitions), for keywords that
                         // keepalived reads with its escapes (regex)
    // The arguments' texts.
    std::vector<std::string> argTexts() const;
};

struct ParseResult {
    std::vector<Node> nodes;
    Diagnostics problems;  // syntax: unbalanced braces, unreadable includes, open quotes
    bool readable = true;  // false: the main file itself could not be read
};

// `configId`: what `@ID` lines are compared with (keepalived's -i, default the host name).
ParseResult parseFile(const std::string& path, const std::string& configId);
// A line split as keepalived's alloc_strvec_quoted_escaped splits it (for `regex`): words apart on
// white space, '...' and "..." quote, and a backslash escape (\n \t \xHH \cX \NNN octal, any other
// character itself) is decoded inside quotes and out. Nullopt where keepalived refuses the line (a
// quote not closed, a backslash at the end).
std::optional<std::vector<std::string>> escapedWords(std::string_view line);
ParseResult parseString(const std::string& text, const std::string& name, const std::string& dir,
                        const std::string& configId);

}  // namespace conf::keepalived
