// conf/README.md's settings tables are the schema's documentation (conf/Schema.h), row for row:
// every section the loader reads has a table under a "## `section`" heading (or ### / ####) whose
// rows are exactly its settings, in reading order, with the schema's type, default, range and
// meaning. Run with DIRECTORD_UPDATE_DOCS=1 to rewrite the tables from the schema.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "conf/Schema.h"

namespace {

std::string cell(const std::string& s) { return s.empty() ? " " : " " + s + " "; }

std::string row(const conf::schema::DocRow& r) {
    return "|" + cell("`" + r.key + "`") + "|" + cell(r.doc.type) + "|" + cell(r.doc.def) + "|" + cell(r.doc.range) +
           "|" + cell(r.doc.meaning) + "|";
}

}  // namespace

TEST_CASE("conf/README.md documents every setting of the schema, exactly, and only those") {
    const std::string path = std::string(DIRECTORD_SOURCE_DIR) + "/conf/README.md";
    std::map<std::string, std::vector<std::string>> expected;
    std::vector<std::string> order;
    for (const auto& r : conf::schema::reference()) {
        if (!expected.count(r.section)) order.push_back(r.section);
        expected[r.section].push_back(row(r));
    }
    REQUIRE(order.size() > 15);

    std::ifstream in(path);
    REQUIRE(in);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    const std::regex heading(R"(^#{2,4} `([a-z_.]+)`)"), settingRow(R"(^\| `([a-z_0-9]+)` \|)");
    std::map<std::string, std::vector<std::string>> documented;
    std::map<std::string, std::pair<size_t, size_t>> span;  // rows' first line and count
    std::string section;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (std::regex_search(lines[i], m, heading)) section = m[1];
        else if (std::regex_search(lines[i], m, settingRow)) {
            if (!span.count(section)) span[section] = {i, 0};
            ++span[section].second;
            documented[section].push_back(lines[i]);
        }
    }
    if (std::getenv("DIRECTORD_UPDATE_DOCS")) {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {  // from the end: earlier line numbers stay
            auto sp = span.find(*it);
            REQUIRE(sp != span.end());
            lines.erase(lines.begin() + static_cast<long>(sp->second.first),
                        lines.begin() + static_cast<long>(sp->second.first + sp->second.second));
            lines.insert(lines.begin() + static_cast<long>(sp->second.first), expected[*it].begin(),
                         expected[*it].end());
        }
        std::ofstream out(path);
        for (const auto& l : lines) out << l << '\n';
        return;
    }
    for (const auto& s : order) {
        std::string want;
        for (const auto& r : expected[s]) want += r + "\n";
        std::string have;
        for (const auto& r : documented[s]) have += r + "\n";
        INFO("section " << s << " (DIRECTORD_UPDATE_DOCS=1 rewrites the tables)");
        CHECK(have == want);
    }
    for (const auto& [s, rows] : documented) {
        INFO("documented but not in the schema: section " << s);
        CHECK(expected.count(s) == 1);
    }
}
