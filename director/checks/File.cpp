// file (keepalived's FILE_CHECK): a number in a `track_files` file, watched with inotify; value x
// weight is added to the real server's weight, or (weight 0) a non-zero value is down
// (healthcheck/TrackedFile.h has keepalived's rules). The check runs when the file changes, not on
// a timer (ProbeFactory's checkTiming).
#include <algorithm>

#include "director/checks/CheckKind.h"
#include "healthcheck/TrackedFile.h"

namespace director::checks {

namespace {

const conf::TrackFile* trackFileOf(const CheckRef& r) {
    auto it = std::find_if(r.cfg.trackFiles.begin(), r.cfg.trackFiles.end(),
                           [&](const conf::TrackFile& f) { return f.name == r.c.trackFile; });
    return it == r.cfg.trackFiles.end() ? nullptr : &*it;
}

void fileKey(std::ostream& k, const CheckRef& r) {
    const auto* f = trackFileOf(r);
    k << '|' << (f ? f->path : "?") << '|' << r.c.fileWeight.value_or(f ? f->weight : 1) << '|'
      << r.c.fileReverse.value_or(f && f->reverse);
}

std::unique_ptr<healthcheck::Probe> makeFile(asio::io_context& io, const CheckRef& r, std::string& why) {
    const auto* f = trackFileOf(r);
    if (!f) {
        why = "no track file '" + r.c.trackFile + "'";
        return nullptr;
    }
    return std::make_unique<healthcheck::FileProbe>(io, f->path, r.c.fileWeight.value_or(f->weight),
                                                    r.c.fileReverse.value_or(f->reverse));
}

}  // namespace

extern const CheckKind kFile;
const CheckKind kFile{conf::CheckType::File, fileKey, makeFile, false, true, true,
                      [](const CheckRef& r) { return r.c.trackFile; }};

}  // namespace director::checks
