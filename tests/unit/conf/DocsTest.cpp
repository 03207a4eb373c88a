// conf/README.md documents every setting the loader knows, and nothing it does not. The loader
// records each "section.key" it asks for; loading the full corpus file asks for all of them.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>

#include "conf/Loader.h"
#include "conf/Reader.h"

TEST_CASE("conf/README.md documents every setting, and only those") {
    const std::string src = DIRECTORD_SOURCE_DIR;
    REQUIRE(conf::loadFile(src + "/tests/corpus/good/full.conf").ok());
    const std::set<std::string>& known = conf::Reader::knownSettings();
    REQUIRE(known.size() > 150);

    // Sections are "### `path`" headings; settings are table rows starting with "| `key` |".
    std::ifstream in(src + "/conf/README.md");
    REQUIRE(in);
    std::set<std::string> documented;
    std::string section;
    const std::regex heading(R"(^#{2,4} `([a-z_.]+)`)"), row(R"(^\| `([a-z_0-9]+)` \|)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, heading)) section = m[1] == "top" ? "" : std::string(m[1]);
        else if (std::regex_search(line, m, row))
            documented.insert(section.empty() ? std::string(m[1]) : section + "." + std::string(m[1]));
    }
    for (const auto& k : known) {
        INFO("undocumented setting: " << k);
        CHECK(documented.count(k) == 1);
    }
    for (const auto& d : documented) {
        INFO("documented but unknown to the loader: " << d);
        CHECK(known.count(d) == 1);
    }
}
