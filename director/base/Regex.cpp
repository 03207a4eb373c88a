#include "base/Regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <utility>

namespace base {

namespace {

struct Option {
    const char* name;
    std::uint32_t bit;
};

// keepalived's table (check/check_http.c), name for name
const Option kOptions[] = {
    {"allow_empty_class", PCRE2_ALLOW_EMPTY_CLASS},
    {"alt_bsux", PCRE2_ALT_BSUX},
    {"auto_callout", PCRE2_AUTO_CALLOUT},
    {"caseless", PCRE2_CASELESS},
    {"dollar_endonly", PCRE2_DOLLAR_ENDONLY},
    {"dotall", PCRE2_DOTALL},
    {"dupnames", PCRE2_DUPNAMES},
    {"extended", PCRE2_EXTENDED},
    {"firstline", PCRE2_FIRSTLINE},
    {"match_unset_backref", PCRE2_MATCH_UNSET_BACKREF},
    {"multiline", PCRE2_MULTILINE},
    {"never_ucp", PCRE2_NEVER_UCP},
    {"never_utf", PCRE2_NEVER_UTF},
    {"no_auto_capture", PCRE2_NO_AUTO_CAPTURE},
    {"no_auto_possess", PCRE2_NO_AUTO_POSSESS},
    {"no_dotstar_anchor", PCRE2_NO_DOTSTAR_ANCHOR},
    {"no_start_optimize", PCRE2_NO_START_OPTIMIZE},
    {"ucp", PCRE2_UCP},
    {"ungreedy", PCRE2_UNGREEDY},
    {"utf", PCRE2_UTF},
    {"never_backslash_c", PCRE2_NEVER_BACKSLASH_C},
    {"alt_circumflex", PCRE2_ALT_CIRCUMFLEX},
    {"alt_verbnames", PCRE2_ALT_VERBNAMES},
    {"use_offset_limit", PCRE2_USE_OFFSET_LIMIT},
};

pcre2_code* code(void* p) { return static_cast<pcre2_code*>(p); }

}  // namespace

const std::vector<std::string>& Regex::optionNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& o : kOptions) v.emplace_back(o.name);
        return v;
    }();
    return names;
}

std::shared_ptr<const Regex> Regex::compile(const std::string& pattern, const std::vector<std::string>& options,
                                            std::string& why) {
    std::uint32_t bits = 0;
    for (const auto& name : options) {
        bool known = false;
        for (const auto& o : kOptions)
            if (name == o.name) {
                bits |= o.bit;
                known = true;
            }
        if (!known) {
            why = "unknown regex option '" + name + "'";
            return nullptr;
        }
    }
    int error = 0;
    PCRE2_SIZE at = 0;
    pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), bits, &error, &at,
                                  nullptr);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(error, msg, sizeof msg);
        why = "at offset " + std::to_string(at) + ": " + reinterpret_cast<const char*>(msg);
        return nullptr;
    }
    std::shared_ptr<Regex> r(new Regex());
    r->code_ = c;
    return r;
}

Regex::~Regex() { pcre2_code_free(code(code_)); }

bool Regex::matches(std::string_view subject, std::size_t minOffset, std::optional<std::size_t> maxOffset) const {
    if (minOffset > subject.size()) return false;
    // one match block per call: a check matches once per attempt, and the block is small (one
    // pair of offsets per capture group)
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code(code_), nullptr);
    if (!md) return false;
    const int rc = pcre2_match(code(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), minOffset, 0,
                               md, nullptr);
    bool ok = rc >= 0;
    if (ok && maxOffset) ok = pcre2_get_ovector_pointer(md)[0] <= *maxOffset;
    pcre2_match_data_free(md);
    return ok;
}

}  // namespace base
