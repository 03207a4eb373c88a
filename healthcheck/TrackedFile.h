// Tracked files (keepalived's track_file): a number read from a file moves a real server's weight
// or a VRRP instance's priority, or marks it down. The file is watched with inotify (its directory,
// so a file created, replaced by a rename or deleted is seen), never polled: FileWatch is one
// inotify descriptor per event loop, shared by every check and tracker on it.
//
// keepalived's rules, from its trackers/track_file.c:
//   - the value is the text's leading number as strtol(text, 0) reads it (decimal, 0x hex, 0
//     octal; leading blanks; "12abc" is 12, "abc" is 0); a missing or empty file is 0; a number
//     outside [-2^31, 2^31] is ignored (the last value stays) and logged;
//   - weight 0: a non-zero value is a failure, 0 is OK (`reverse`: the other way round);
//   - otherwise value x weight (x -1 with `reverse`) is added: to a real server's weight (down
//     only at -2^31 or below), to an instance's priority (FAULT at -254 or below, capped at 253).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/Asio.h"
#include "healthcheck/Probe.h"

namespace healthcheck {

// The value of a file's text, or nullopt when keepalived ignores it (out of range).
std::optional<std::int64_t> parseTrackedValue(std::string_view text);
// Reads `path` as keepalived does (the first 127 bytes; missing or unreadable: 0).
std::optional<std::int64_t> readTrackedFile(const std::string& path);

// A real server's FILE_CHECK: nullopt is down, else the weight added to the real server's.
std::optional<std::int64_t> fileCheckDelta(std::int64_t value, std::int64_t weight, bool reverse);
// A VRRP instance's track_file: nullopt is FAULT, else the priority added (-253..253).
std::optional<int> fileTrackDelta(std::int64_t value, std::int64_t weight, bool reverse);

// init_file: writes `value` to `path` when it does not exist (or, with `overwrite`, when it is a
// regular file), as keepalived does at start (never on a reload). False with `why` on an error.
bool initTrackedFile(const std::string& path, std::int64_t value, bool overwrite, std::string& why);

class FileWatch : public std::enable_shared_from_this<FileWatch> {
public:
    using Listener = std::function<void(std::int64_t value)>;
    // The loop's watcher (made on first use, gone with its last user).
    static std::shared_ptr<FileWatch> shared(asio::io_context& io);
    explicit FileWatch(asio::io_context& io);
    ~FileWatch();

    // Watches `path` (its directory must exist); `fn` hears each new value, from the loop. Returns
    // the subscription's id, or 0 with `why` when the directory cannot be watched.
    int subscribe(const std::string& path, Listener fn, std::string& why);
    void unsubscribe(int id);
    // The file's last value (read when first watched, then on each change).
    std::int64_t value(const std::string& path) const;
    std::uint64_t invalidValues() const { return invalid_; }

private:
    struct File {
        std::string dir, name;
        int wd = -1;
        std::int64_t value = 0;
        std::map<int, Listener> listeners;
    };
    void readEvents();
    void reread(File& f, bool removed);

    asio::posix::stream_descriptor fd_;
    std::map<std::string, File> files_;  // by path
    std::map<int, std::string> byId_;
    int nextId_ = 1;
    std::uint64_t invalid_ = 0;
    bool reading_ = false;
    alignas(8) char buf_[4096];
};

// FILE_CHECK as a probe: the first run reports the file's value at once, each later run reports
// the next change (it waits for inotify, with no timeout), so the check session sees every change
// as it happens and no timer polls the file.
class FileProbe : public Probe {
public:
    FileProbe(asio::io_context& io, std::string path, std::int64_t weight, bool reverse);
    ~FileProbe() override;
    void run(Done done) override;
    void cancel() override;

private:
    void report();
    asio::io_context& io_;
    std::string path_;
    std::int64_t weight_;
    bool reverse_;
    std::shared_ptr<FileWatch> watch_;
    int sub_ = 0;
    std::string error_;
    std::optional<std::int64_t> reported_;
    Done pending_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace healthcheck
