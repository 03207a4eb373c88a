#include "conf/Dump.h"

#include "conf/Schema.h"

namespace conf {

std::string dump(const Config& cfg) {
    schema::Out o;
    o.line("# canonical form of " + cfg.file + " (every default filled in)");
    schema::writeSection(o, schema::root(), cfg);
    return o.text();
}

std::string dumpMinimal(const Config& cfg) {
    schema::Out o(true);
    schema::writeSection(o, schema::root(), cfg);
    return o.text();
}

}  // namespace conf
