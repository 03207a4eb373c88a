#include "conf/KeepalivedParser.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>

namespace conf::keepalived {

std::vector<std::string> Node::argTexts() const {
    std::vector<std::string> out;
    for (const auto& a : args) out.push_back(a.text);
    return out;
}

namespace {

constexpr int kMaxIncludeDepth = 16;
constexpr size_t kMaxFile = 16u << 20;

struct Token {
    std::string text;
    bool quoted = false;
    enum Kind { Word, Open, Close, End } kind = Word;
    std::string file;
    int line = 0;
    std::string source;  // a line's first word: the whole line as written (keepalived re-reads some)
};

bool readRegular(const std::string& path, std::string& out, std::string& why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        why = std::string("cannot open: ") + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        why = "not a regular file";
        return false;
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > kMaxFile) {
            ::close(fd);
            why = "larger than 16 MiB";
            return false;
        }
    }
    ::close(fd);
    if (n < 0) {
        why = std::string("cannot read: ") + std::strerror(errno);
        return false;
    }
    return true;
}

bool identChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
public:
    Lexer(std::string configId, Diagnostics& problems) : configId_(std::move(configId)), problems_(problems) {}

    bool file(const std::string& path, int depth) {
        std::string text, why;
        if (!readRegular(path, text, why)) {
            problems_.push_back({path, 0, depth == 0 ? "" : "include", why});
            return false;
        }
        const auto slash = path.rfind('/');
        source(text, path, slash == std::string::npos ? "." : path.substr(0, slash), depth);
        return true;
    }

    void source(const std::string& text, const std::string& name, const std::string& dir, int depth) {
        int lineNo = 0;
        std::string pending;
        int pendingLine = 0;
        size_t pos = 0;
        while (pos <= text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) nl = text.size();
            std::string line = text.substr(pos, nl - pos);
            pos = nl + 1;
            ++lineNo;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (pending.empty()) pendingLine = lineNo;
            if (!line.empty() && line.back() == '\\') {  // continued on the next line
                line.pop_back();
                pending += line + kLineEnd;  // a definition keeps its lines; any other line joins them
                if (pos <= text.size()) continue;
            }
            pending += line;
            process(pending, name, pendingLine, dir, depth);
            pending.clear();
            if (nl == text.size()) break;
        }
    }

    std::vector<Token> tokens;

private:
    // Keeps the line when it has no condition or its condition holds; strips the condition.
    bool condition(std::string& line) {
        if (line.empty() || line[0] != '@') return true;
        size_t end = 0;
        while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
        const bool negate = line.size() > 1 && line[1] == '^';
        const std::string id = line.substr(negate ? 2 : 1, end - (negate ? 2 : 1));
        line = line.substr(end);
        trim(line);
        return (id == configId_) != negate;
    }

    static void trim(std::string& s) {
        size_t a = 0, b = s.size();
        while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
        while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
        s = s.substr(a, b - a);
    }

    // A definition's value where it is used (keepalived expands where used, not where defined), then
    // what that value uses, up to kMaxExpansion deep. keepalived's built-ins: ${_HASH} and ${_BANG}
    // (a line that becomes a comment), ${_PWD} (the file's directory), ${_INSTANCE} (the config id);
    // a definition of the same name overrides a built-in.
    // Inside braces a built-in takes parameters: ${_RANDOM [MIN [MAX]]} (numbers, default 0 32767,
    // glibc's random() as keepalived draws it, seeded by a `random_seed` line read before, else by
    // the time) and ${_ENV NAME} (the variable's value, empty when unset). A definition of the
    // operator's own takes none: with parameters it is left as written, as keepalived leaves it.
    std::optional<std::string> lookup(const std::string& name, const std::string& dir,
                                      const std::vector<std::string>& args = {}) const {
        if (auto it = params_.find(name); it != params_.end()) {
            if (!args.empty()) return std::nullopt;
            return it->second;
        }
        if (name == "_RANDOM") {
            if (args.size() > 2) return std::nullopt;
            unsigned long bound[2] = {0, 32767};
            for (size_t k = 0; k < args.size(); ++k) {
                if (args[k].empty() || !std::all_of(args[k].begin(), args[k].end(), ::isdigit) || args[k].size() > 9)
                    return std::nullopt;
                bound[k] = std::stoul(args[k]);
            }
            if (bound[0] > bound[1]) bound[1] = bound[0];  // keepalived: "min exceeds max, using min"
            if (!seeded_) {
                ::srandom(static_cast<unsigned>(::time(nullptr)));
                seeded_ = true;
            }
            return std::to_string(static_cast<unsigned long>(::random()) % (bound[1] - bound[0] + 1) + bound[0]);
        }
        if (name == "_ENV") {
            if (args.size() != 1) return std::nullopt;
            const char* v = ::getenv(args[0].c_str());
            return std::string(v ? v : "");
        }
        if (!args.empty()) return std::nullopt;
        if (name == "_HASH") return "#";
        if (name == "_BANG") return "!";
        if (name == "_PWD") return dir;
        if (name == "_INSTANCE") return configId_;
        return std::nullopt;
    }

    // keepalived's random_seed (global_defs): ${_RANDOM} after it draws a repeatable sequence.
    void seedFrom(const std::string& line) const {
        static const std::string kKey = "random_seed";
        if (line.compare(0, kKey.size(), kKey) != 0 || line.size() <= kKey.size() ||
            !std::isspace(static_cast<unsigned char>(line[kKey.size()])))
            return;
        std::string v = line.substr(kKey.size());
        trim(v);
        if (v.empty() || v.size() > 10 || !std::all_of(v.begin(), v.end(), ::isdigit)) return;
        ::srandom(static_cast<unsigned>(std::stoul(v)));
        seeded_ = true;
    }

    std::string substitute(const std::string& in, const std::string& dir, int depth = 0) const {
        std::string out;
        for (size_t i = 0; i < in.size();) {
            if (out.size() > kMaxExpanded) {  // definitions that multiply: stop before memory does
                overflow_ = true;
                return out;
            }
            if (in[i] != '$') {
                out += in[i++];
                continue;
            }
            size_t start = i + 1, end;
            bool braced = start < in.size() && in[start] == '{';
            if (braced) {
                end = in.find('}', start);
                if (end == std::string::npos) {
                    out += in[i++];
                    continue;
                }
                std::vector<std::string> words;  // NAME, then its parameters
                {
                    std::string inner = in.substr(start + 1, end - start - 1), w;
                    for (char ch : inner + " ") {
                        if (ch == ' ' || ch == '\t') {
                            if (!w.empty()) words.push_back(std::move(w));
                            w.clear();
                        } else {
                            w += ch;
                        }
                    }
                }
                const std::string inner = in.substr(start + 1, end - start - 1);
                const bool wellFormed =  // keepalived: names and parameters of A-Za-z0-9_, no space at either end
                    !inner.empty() && inner.front() != ' ' && inner.front() != '\t' && inner.back() != ' ' &&
                    inner.back() != '\t' &&
                    std::all_of(inner.begin(), inner.end(), [](char ch) { return identChar(ch) || ch == ' ' || ch == '\t'; });
                const auto value = !wellFormed || words.empty() ? std::nullopt
                                                 : lookup(words[0], dir, {words.begin() + 1, words.end()});
                if (!value) out += in.substr(i, end + 1 - i);
                else out += depth < kMaxExpansion ? substitute(*value, dir, depth + 1) : *value;
                i = end + 1;
                continue;
            }
            end = start;
            while (end < in.size() && identChar(in[end])) ++end;
            const auto value = end == start ? std::nullopt : lookup(in.substr(start, end - start), dir);
            if (!value) {
                out += in[i++];
                continue;
            }
            out += depth < kMaxExpansion ? substitute(*value, dir, depth + 1) : *value;
            i = end;
        }
        return out;
    }

    // comments: # or ! outside quotes, anywhere on the line
    static void stripComment(std::string& line) {
        bool inQuote = false;
        for (size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '"') inQuote = !inQuote;
            else if (!inQuote && (line[i] == '#' || line[i] == '!')) {
                line.erase(i);
                break;
            }
        }
    }

    void process(std::string line, const std::string& file, int lineNo, const std::string& dir, int depth,
                 int expansion = 0) {
        stripComment(line);
        trim(line);
        if (line.empty() || !condition(line)) return;
        if (line[0] == '$') {  // $NAME=value: kept as written, lines and all, until used
            size_t n = 1;
            while (n < line.size() && identChar(line[n])) ++n;
            size_t eq = n;
            while (eq < line.size() && (line[eq] == ' ' || line[eq] == '\t')) ++eq;
            if (n > 1 && eq < line.size() && line[eq] == '=') {
                std::string value = line.substr(eq + 1);
                trim(value);
                while (!value.empty() && value.back() == kLineEnd) value.pop_back();
                params_[line.substr(1, n - 1)] = value;
                return;
            }
        }
        if (line.rfind("~SEQ", 0) == 0 || line.rfind("~LST", 0) == 0) return loop(line, file, lineNo, dir, depth, expansion);
        std::replace(line.begin(), line.end(), kLineEnd, ' ');  // a continued line that is no definition
        overflow_ = false;
        line = substitute(line, dir);
        seedFrom(line);
        if (overflow_) {
            problems_.push_back({file, lineNo, "definition",
                                 "expands to more than " + std::to_string(kMaxExpanded / 1024) + " KiB (definitions that multiply?)"});
            return;
        }
        if (line.find(kLineEnd) != std::string::npos) {  // a multi-line definition: one line each
            if (expansion >= kMaxExpansion) {
                problems_.push_back({file, lineNo, "definition", "expands into itself (a definition loop?)"});
                return;
            }
            size_t start = 0;
            for (size_t end; (end = line.find(kLineEnd, start)) != std::string::npos; start = end + 1)
                process(line.substr(start, end - start), file, lineNo, dir, depth, expansion + 1);
            process(line.substr(start), file, lineNo, dir, depth, expansion + 1);
            return;
        }
        stripComment(line);  // ${_HASH} and ${_BANG} make comments
        trim(line);
        if (line.empty() || !condition(line)) return;
        std::vector<Token> words;
        std::string cur;
        bool quoted = false, inWord = false;
        auto flush = [&] {
            if (inWord) words.push_back({cur, quoted, Token::Word, file, lineNo, {}});
            cur.clear();
            quoted = inWord = false;
        };
        for (size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (c == '"') {
                const size_t close = line.find('"', i + 1);
                if (close == std::string::npos) {
                    problems_.push_back({file, lineNo, "syntax", "a quote is not closed"});
                    return;
                }
                cur += line.substr(i + 1, close - i - 1);
                quoted = inWord = true;
                i = close;
            } else if (c == '{' || c == '}') {
                flush();
                words.push_back({std::string(1, c), false, c == '{' ? Token::Open : Token::Close, file, lineNo, {}});
            } else if (std::isspace(static_cast<unsigned char>(c))) {
                flush();
            } else {
                cur += c;
                inWord = true;
            }
        }
        flush();
        if (!words.empty()) words[0].source = line;
        if (!words.empty() && words[0].kind == Token::Word && !words[0].quoted && words[0].text == "include") {
            if (words.size() < 2) {
                problems_.push_back({file, lineNo, "include", "names no file"});
                return;
            }
            if (depth >= kMaxIncludeDepth) {
                problems_.push_back({file, lineNo, "include", "nested too deep (an include loop?)"});
                return;
            }
            for (size_t w = 1; w < words.size(); ++w) {
                std::string pattern = words[w].text;
                if (pattern.empty()) continue;
                if (pattern[0] != '/') pattern = dir + "/" + pattern;
                glob_t g{};
                const int rc = ::glob(pattern.c_str(), GLOB_BRACE, nullptr, &g);
                if (rc != 0) {
                    problems_.push_back({file, lineNo, "include", words[w].text + " matches no file"});
                } else {
                    for (size_t k = 0; k < g.gl_pathc; ++k) this->file(g.gl_pathv[k], depth + 1);
                }
                ::globfree(&g);
            }
            return;
        }
        for (auto& w : words) tokens.push_back(std::move(w));
        tokens.push_back({"", false, Token::End, file, lineNo, {}});
    }

    static constexpr char kLineEnd = '\x01';  // where a continued line ended
    // keepalived's ~SEQ(var, [start, [step,]] end), ~SEQx (hexadecimal) and ~LST(var, v1, ...) /
    // ~LST({a, b}, {1, 2}, ...): the rest of the line once per value, with $var set (the variable is
    // forgotten after the block, as keepalived says not to rely on it). Blocks nest.
    void loop(const std::string& line, const std::string& file, int lineNo, const std::string& dir, int depth,
              int expansion) {
        const bool seq = line[1] == 'S';
        const bool hex = seq && line.size() > 4 && line[4] == 'x';
        const size_t open = line.find('(');
        size_t close = std::string::npos;
        int braces = 0;
        for (size_t i = open == std::string::npos ? line.size() : open + 1; i < line.size(); ++i) {
            if (line[i] == '{') ++braces;
            else if (line[i] == '}') --braces;
            else if (line[i] == ')' && braces == 0) {
                close = i;
                break;
            }
        }
        const std::string word = line.substr(0, hex ? 5 : 4);
        if (open != word.size() || close == std::string::npos) {
            problems_.push_back({file, lineNo, word, "not " + word + "(...): a block needs its parenthesised list"});
            return;
        }
        // top-level comma split ({...} kept whole)
        auto split = [](const std::string& s) {
            std::vector<std::string> out;
            std::string cur;
            int b = 0;
            for (char c : s) {
                if (c == '{') ++b;
                if (c == '}') --b;
                if (c == ',' && b == 0) {
                    out.push_back(cur);
                    cur.clear();
                } else {
                    cur += c;
                }
            }
            out.push_back(cur);
            for (auto& x : out) trim(x);
            return out;
        };
        auto unbrace = [&](std::string s) {
            if (s.size() >= 2 && s.front() == '{' && s.back() == '}') return split(s.substr(1, s.size() - 2));
            return std::vector<std::string>{s};
        };
        std::string rest = line.substr(close + 1);
        trim(rest);
        const auto items = split(line.substr(open + 1, close - open - 1));
        std::vector<std::string> vars = unbrace(items[0]);
        std::vector<std::vector<std::string>> rows;
        const auto bad = [&](const std::string& why) { problems_.push_back({file, lineNo, word, why}); };
        for (const auto& v : vars)
            if (v.empty() || !std::all_of(v.begin(), v.end(), identChar)) return bad("'" + v + "' is not a variable name");
        if (seq) {
            std::vector<long long> n;
            for (size_t i = 1; i < items.size(); ++i) {
                char* end = nullptr;
                const long long x = std::strtoll(items[i].c_str(), &end, 0);
                if (items[i].empty() || *end) return bad("'" + items[i] + "' is not a number");
                n.push_back(x);
            }
            if (vars.size() != 1 || n.empty() || n.size() > 3)
                return bad("~SEQ takes (variable, [start, [step,]] end)");
            const long long endV = n.back();
            const long long start = n.size() >= 2 ? n[0] : (endV > 0 ? 1 : -1);
            const long long step = n.size() == 3 ? n[1] : (endV >= start ? 1 : -1);
            if (step == 0) return bad("a step of 0 never ends");
            for (long long x = start; step > 0 ? x <= endV : x >= endV; x += step) {
                if (rows.size() >= kMaxLoopLines) break;
                char buf[32];
                std::snprintf(buf, sizeof buf, hex ? "%llx" : "%lld", x);
                rows.push_back({buf});
            }
        } else {
            for (size_t i = 1; i < items.size(); ++i) rows.push_back(unbrace(items[i]));
            if (rows.empty()) return bad("~LST needs at least one value");
            for (const auto& r : rows)
                if (r.size() != vars.size())
                    return bad("each value of ~LST gives every variable one (" + std::to_string(vars.size()) + ")");
        }
        for (const auto& row : rows) {
            if (++loopLines_ > kMaxLoopLines) {
                if (!saidLoops_) bad("more than " + std::to_string(kMaxLoopLines) + " lines from loops: the rest is not read");
                saidLoops_ = true;
                break;
            }
            std::map<std::string, std::optional<std::string>> saved;
            for (size_t k = 0; k < vars.size(); ++k) {
                auto it = params_.find(vars[k]);
                saved[vars[k]] = it == params_.end() ? std::nullopt : std::optional<std::string>(it->second);
                params_[vars[k]] = row[k];
            }
            process(rest, file, lineNo, dir, depth, expansion);
            for (const auto& [v, old] : saved) {
                if (old) params_[v] = *old;
                else params_.erase(v);
            }
        }
    }
    static constexpr size_t kMaxLoopLines = 100000;  // lines from loops, per file read: memory and time stay bounded
    size_t loopLines_ = 0;
    bool saidLoops_ = false;
    static constexpr int kMaxExpansion = 10;
    static constexpr std::size_t kMaxExpanded = 64 * 1024;  // one line, definitions expanded
    mutable bool overflow_ = false;
    std::map<std::string, std::string> params_;
    std::string configId_;
    mutable bool seeded_ = false;
    Diagnostics& problems_;
};

class Parser {
public:
    Parser(const std::vector<Token>& t, Diagnostics& problems) : t_(t), problems_(problems) {}

    std::vector<Node> block(bool inner, const Token* opener) {
        std::vector<Node> out;
        while (i_ < t_.size()) {
            const Token& tok = t_[i_];
            if (tok.kind == Token::End) {
                ++i_;
                continue;
            }
            if (tok.kind == Token::Close) {
                ++i_;
                if (inner) return out;
                problems_.push_back({tok.file, tok.line, "syntax", "'}' closes no block"});
                continue;
            }
            if (tok.kind == Token::Open) {  // a block with no keyword: its contents belong to the enclosing one
                ++i_;
                for (auto& n : block(true, &tok)) out.push_back(std::move(n));
                continue;
            }
            Node n;
            n.keyword = tok.text;
            n.file = tok.file;
            n.line = tok.line;
            n.source = tok.source;
            ++i_;
            while (i_ < t_.size() && t_[i_].kind == Token::Word) n.args.push_back({t_[i_].text, t_[i_++].quoted});
            // a `{` on this line or alone on the next one opens this statement's block
            size_t j = i_;
            if (j < t_.size() && t_[j].kind == Token::End && j + 1 < t_.size() && t_[j + 1].kind == Token::Open) ++j;
            if (j < t_.size() && t_[j].kind == Token::Open) {
                i_ = j + 1;
                n.block = true;
                n.children = block(true, &t_[j]);
            }
            out.push_back(std::move(n));
        }
        if (inner && opener) problems_.push_back({opener->file, opener->line, "syntax", "'{' is never closed"});
        return out;
    }

private:
    const std::vector<Token>& t_;
    Diagnostics& problems_;
    size_t i_ = 0;
};

}  // namespace

ParseResult parseFile(const std::string& path, const std::string& configId) {
    ParseResult r;
    Lexer lex(configId, r.problems);
    if (!lex.file(path, 0)) {
        r.readable = false;
        return r;
    }
    Parser p(lex.tokens, r.problems);
    r.nodes = p.block(false, nullptr);
    return r;
}

ParseResult parseString(const std::string& text, const std::string& name, const std::string& dir,
                        const std::string& configId) {
    ParseResult r;
    Lexer lex(configId, r.problems);
    lex.source(text, name, dir, 0);
    Parser p(lex.tokens, r.problems);
    r.nodes = p.block(false, nullptr);
    return r;
}

std::optional<std::vector<std::string>> escapedWords(std::string_view line) {
    std::vector<std::string> words;
    size_t i = 0;
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    auto hexValue = [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : 10 + (std::tolower(static_cast<unsigned char>(c)) - 'a');
    };
    while (true) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i >= line.size()) break;
        std::string word;
        char quote = 0;
        while (i < line.size()) {
            const char c = line[i];
            if (c == '\\') {
                if (++i >= line.size()) return std::nullopt;  // keepalived: "Missing escape char at end"
                char out = 0;
                const char e = line[i];
                if (e == 'x' && i + 1 < line.size() && std::isxdigit(static_cast<unsigned char>(line[i + 1]))) {
                    ++i;
                    for (int n = 0; n < 2 && i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])); ++n)
                        out = static_cast<char>((out << 4) | hexValue(line[i++]));
                } else if (e == 'c' && i + 1 < line.size()) {
                    out = static_cast<char>(line[i + 1] & 0x1f);
                    i += 2;
                } else if (octal(e)) {
                    out = static_cast<char>(line[i++] - '0');
                    for (int n = 0; n < 2 && i < line.size() && octal(line[i]); ++n)
                        out = static_cast<char>((out << 3) + (line[i++] - '0'));
                } else {
                    static const std::string_view from = "abEfnrtv", to = "\a\b\x1b\f\n\r\t\v";
                    const size_t k = from.find(e);
                    out = k == std::string_view::npos ? e : to[k];
                    ++i;
                }
                word += out;
            } else if (quote) {
                if (c == quote) quote = 0;
                else word += c;
                ++i;
            } else if (c == '"' || c == '\'') {
                quote = c;
                ++i;
            } else if (c == ' ' || c == '\t') {
                break;
            } else {
                word += c;
                ++i;
            }
        }
        if (quote) return std::nullopt;  // keepalived: "missing terminating" quote
        words.push_back(std::move(word));
    }
    return words;
}

}  // namespace conf::keepalived
