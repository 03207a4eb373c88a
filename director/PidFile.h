// PidFile: the pid file, held under an exclusive flock for the daemon's whole life, so a second
// directord with the same pid file refuses to start (and a stale file from a crash does not block).
#pragma once
#include <optional>
#include <string>

namespace director {

class PidFile {
public:
    // On failure returns nullopt and sets `why` to an operator-facing reason.
    static std::optional<PidFile> acquire(const std::string& path, std::string& why);
    PidFile(PidFile&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_) { o.fd_ = -1; }
    PidFile& operator=(PidFile&&) = delete;
    ~PidFile();
    int fd() const { return fd_; }
    // In a forked worker: close our copy without unlinking (the supervisor keeps the lock).
    void forget();

private:
    PidFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::string path_;
    int fd_ = -1;
};

}  // namespace director
