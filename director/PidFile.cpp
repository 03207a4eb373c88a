#include "director/PidFile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace director {

std::optional<PidFile> PidFile::acquire(const std::string& path, std::string& why) {
    // never through a symbolic link, and only a regular file (a link planted there would make
    // root truncate whatever it points at)
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0) {
        why = "cannot open the pid file " + path + ": " + std::strerror(errno) +
              (errno == ELOOP ? " (it is a symbolic link; remove it)" : "");
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "the pid file " + path + " is not a regular file; remove it, or set another global.pid_file";
        ::close(fd);
        return std::nullopt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        why = "another directord is already running (pid " + pid + ", pid file " + path +
              "); stop it first, or give this one its own pid_file";
        ::close(fd);
        return std::nullopt;
    }
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        why = "cannot write the pid file " + path + ": " + std::strerror(errno);
        ::close(fd);
        return std::nullopt;
    }
    return PidFile(path, fd);
}

void PidFile::forget() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    path_.clear();
}

PidFile::~PidFile() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    ::close(fd_);
}

}  // namespace director
