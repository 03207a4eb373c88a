#include "healthcheck/TrackedFile.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/Log.h"

namespace healthcheck {

std::optional<std::int64_t> parseTrackedValue(std::string_view text) {
    const std::string s(text.substr(0, 127));  // NUL-terminated for strtoll
    errno = 0;
    const long long v = std::strtoll(s.c_str(), nullptr, 0);
    if (errno != 0 || v < static_cast<long long>(INT32_MIN) || v > static_cast<long long>(INT32_MAX) + 1)
        return std::nullopt;
    return v;
}

std::optional<std::int64_t> readTrackedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[128];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    return parseTrackedValue(std::string_view(buf, static_cast<size_t>(n)));
}

namespace {
// keepalived: weight 0 makes the value a status (non-zero fails; `reverse`: zero fails)
bool zeroWeightFails(std::int64_t value, bool reverse) { return (value != 0) != reverse; }
}  // namespace

std::optional<std::int64_t> fileCheckDelta(std::int64_t value, std::int64_t weight, bool reverse) {
    if (weight == 0) return zeroWeightFails(value, reverse) ? std::nullopt : std::optional<std::int64_t>(0);
    // |value| <= 2^31 and |weight| < 2^31: the product fits
    const std::int64_t p = value * weight * (reverse ? -1 : 1);
    if (p <= INT32_MIN) return std::nullopt;
    return p > INT32_MAX ? INT32_MAX : p;
}

std::optional<int> fileTrackDelta(std::int64_t value, std::int64_t weight, bool reverse) {
    if (weight == 0) return zeroWeightFails(value, reverse) ? std::nullopt : std::optional<int>(0);
    const std::int64_t p = value * weight * (reverse ? -1 : 1);
    if (p <= -254) return std::nullopt;
    return static_cast<int>(p > 253 ? 253 : p);
}

bool initTrackedFile(const std::string& path, std::int64_t value, bool overwrite, std::string& why) {
    struct stat st {};
    const bool exists = ::lstat(path.c_str(), &st) == 0;
    if (exists && !overwrite) return true;
    if (exists && !S_ISREG(st.st_mode)) {
        why = path + " is not a regular file; not initialised";
        return false;
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        why = path + ": " + std::strerror(errno);
        return false;
    }
    const std::string text = std::to_string(value) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (!ok) why = path + ": " + std::strerror(errno);
    ::close(fd);
    return ok;
}

std::shared_ptr<FileWatch> FileWatch::shared(asio::io_context& io) {
    // one per loop, for as long as a check or tracker holds it
    static std::mutex m;
    static std::map<asio::io_context*, std::weak_ptr<FileWatch>> watches;
    std::lock_guard lock(m);
    if (auto w = watches[&io].lock()) return w;
    auto w = std::make_shared<FileWatch>(io);
    watches[&io] = w;
    return w;
}

FileWatch::FileWatch(asio::io_context& io) : fd_(io) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0) fd_.assign(fd);
}

FileWatch::~FileWatch() {
    boost::system::error_code ignore;
    fd_.close(ignore);
}

int FileWatch::subscribe(const std::string& path, Listener fn, std::string& why) {
    if (!fd_.is_open()) {
        why = std::string("inotify: ") + std::strerror(errno);
        return 0;
    }
    auto it = files_.find(path);
    if (it == files_.end()) {
        File f;
        const auto slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        f.name = slash == std::string::npos ? path : path.substr(slash + 1);
        char resolved[PATH_MAX];
        if (!::realpath(dir.c_str(), resolved)) {
            why = "directory " + dir + ": " + std::strerror(errno);
            return 0;
        }
        f.dir = resolved;
        f.wd = ::inotify_add_watch(fd_.native_handle(), f.dir.c_str(),
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
        if (f.wd < 0) {
            why = "cannot watch " + f.dir + ": " + std::strerror(errno);
            return 0;
        }
        it = files_.emplace(path, std::move(f)).first;
        reread(it->second, false);
        if (!reading_) readEvents();
    }
    const int id = nextId_++;
    it->second.listeners.emplace(id, std::move(fn));
    byId_.emplace(id, path);
    return id;
}

void FileWatch::unsubscribe(int id) {
    auto b = byId_.find(id);
    if (b == byId_.end()) return;
    auto it = files_.find(b->second);
    byId_.erase(b);
    if (it == files_.end()) return;
    it->second.listeners.erase(id);
    if (!it->second.listeners.empty()) return;
    const int wd = it->second.wd;
    files_.erase(it);
    for (const auto& [p, f] : files_)
        if (f.wd == wd) return;  // another file in the same directory
    ::inotify_rm_watch(fd_.native_handle(), wd);
}

std::int64_t FileWatch::value(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? 0 : it->second.value;
}

void FileWatch::reread(File& f, bool removed) {
    std::int64_t v = 0;
    const std::string path = f.dir + "/" + f.name;
    if (!removed) {
        const auto read = readTrackedFile(path);
        if (!read) {
            ++invalid_;
            base::log::warning("track_file ", path, ": not a number from -2147483648 to 2147483648; the value stays ",
                               f.value);
            return;
        }
        v = *read;
    }
    if (v == f.value) return;
    f.value = v;
    // a listener may unsubscribe (a reload): call a copy
    auto listeners = f.listeners;
    for (auto& [id, fn] : listeners) fn(v);
}

void FileWatch::readEvents() {
    reading_ = true;  // one wait at a time, rearmed for ever once started
    auto self = weak_from_this();
    fd_.async_wait(asio::posix::descriptor_base::wait_read, [self](const boost::system::error_code& ec) {
        auto w = self.lock();
        if (ec || !w) return;
        for (;;) {
            const ssize_t n = ::read(w->fd_.native_handle(), w->buf_, sizeof w->buf_);
            if (n <= 0) break;
            for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
                inotify_event ev;
                std::memcpy(&ev, w->buf_ + off, sizeof ev);
                const char* name = w->buf_ + off + sizeof ev;
                const std::string_view nm(name, ::strnlen(name, ev.len));
                off += static_cast<ssize_t>(sizeof ev + ev.len);
                if (ev.mask & IN_ISDIR) continue;
                // by path: a listener may change files_ while we walk it
                std::vector<std::string> hit;
                for (const auto& [p, f] : w->files_)
                    if (f.wd == ev.wd && f.name == nm) hit.push_back(p);
                for (const auto& p : hit)
                    if (auto it = w->files_.find(p); it != w->files_.end())
                        w->reread(it->second, (ev.mask & (IN_DELETE | IN_MOVED_FROM)) != 0);
            }
        }
        w->readEvents();
    });
}

FileProbe::FileProbe(asio::io_context& io, std::string path, std::int64_t weight, bool reverse)
    : io_(io), path_(std::move(path)), weight_(weight), reverse_(reverse) {}

FileProbe::~FileProbe() {
    if (watch_ && sub_) watch_->unsubscribe(sub_);
}

void FileProbe::run(Done done) {
    if (!watch_) {
        watch_ = FileWatch::shared(io_);
        sub_ = watch_->subscribe(
            path_,
            [this](std::int64_t) {
                if (pending_) report();
            },
            error_);
    }
    pending_ = std::move(done);
    if (!sub_ || !reported_ || watch_->value(path_) != *reported_) {
        asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
            if (alive.lock() && pending_) report();
        });
    }
}

void FileProbe::report() {
    auto done = std::move(pending_);
    pending_ = nullptr;
    if (!sub_) {
        ProbeResult r = ProbeResult::fail(Failure::Error, ENOENT);
        r.output = error_;
        done(r);
        return;
    }
    const std::int64_t v = watch_->value(path_);
    reported_ = v;
    const auto delta = fileCheckDelta(v, weight_, reverse_);
    ProbeResult r = delta ? ProbeResult::success()
                          : ProbeResult::fail(Failure::FileValue, static_cast<int>(std::clamp<std::int64_t>(v, INT32_MIN, INT32_MAX)));
    if (delta) r.weight = static_cast<int>(*delta);
    r.output = path_;
    done(r);
}

void FileProbe::cancel() { pending_ = nullptr; }

}  // namespace healthcheck
