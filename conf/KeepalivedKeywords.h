// keepalived's own keywords: what `--import-keepalived` tells apart when it meets a word it does
// not carry over (a keepalived keyword directord does not take, or a typo keepalived would
// refuse too).
#pragma once
#include <string>
#include <string_view>

namespace conf::keepalived {

// A keyword of keepalived's config language (any section).
bool isKeyword(std::string_view word);
// A keyword keepalived takes inside global_defs (elsewhere it says "Unknown keyword" and ignores it).
bool isGlobalKeyword(std::string_view word);
// The keepalived keyword nearest to `word` by edit distance, if one is close enough to be what a
// typo meant; empty otherwise.
std::string nearestKeyword(std::string_view word);

}  // namespace conf::keepalived
