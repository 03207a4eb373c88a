#include "base/Log.h"

#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace base::log {
namespace {
std::atomic<Level> gLevel{Level::Info};
std::atomic<bool> gSyslog{false};
std::atomic<void (*)(Level, const std::string&)> gSink{nullptr};
std::mutex gMutex;
std::string gIdentity = "directord";

int syslogPriority(Level l) {
    switch (l) {
    case Level::Debug: return LOG_DEBUG;
    case Level::Info: return LOG_INFO;
    case Level::Notice: return LOG_NOTICE;
    case Level::Warning: return LOG_WARNING;
    case Level::Error: return LOG_ERR;
    }
    return LOG_INFO;
}
}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
    if (name == "debug") return Level::Debug;
    if (name == "info") return Level::Info;
    if (name == "notice") return Level::Notice;
    if (name == "warning") return Level::Warning;
    if (name == "error") return Level::Error;
    return std::nullopt;
}

const char* levelName(Level l) {
    switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Notice: return "notice";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    }
    return "info";
}

void setLevel(Level l) { gLevel = l; }
Level level() { return gLevel; }

void setIdentity(std::string identity) {
    std::lock_guard lock(gMutex);
    gIdentity = std::move(identity);
    if (gSyslog) {
        closelog();
        openlog(gIdentity.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
}

void useSyslog(bool on) {
    std::lock_guard lock(gMutex);
    if (on && !gSyslog) openlog(gIdentity.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
    if (!on && gSyslog) closelog();
    gSyslog = on;
}

void setSink(void (*sink)(Level, const std::string&)) { gSink = sink; }

std::string escapeControl(std::string_view text) {
    auto plain = [](unsigned char c) { return c >= 0x20 && c != 0x7f; };
    if (std::all_of(text.begin(), text.end(), [&](char c) { return plain(static_cast<unsigned char>(c)); }))
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 16);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (plain(c)) {
            out += ch;
            continue;
        }
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
        }
    }
    return out;
}

void write(Level l, const std::string& raw) {
    const std::string message = escapeControl(raw);
    if (auto sink = gSink.load()) {
        sink(l, message);
        return;
    }
    std::lock_guard lock(gMutex);
    if (gSyslog) {
        syslog(syslogPriority(l), "%s", message.c_str());
        return;
    }
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    char ts[40];
    const size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string line;
    line.reserve(message.size() + 64);
    line.append(ts, n);
    char frac[16];
    snprintf(frac, sizeof frac, ".%03dZ ", static_cast<int>(tv.tv_usec / 1000));
    line += frac;
    line += gIdentity;
    line += '[';
    line += std::to_string(getpid());
    line += "] ";
    line += levelName(l);
    line += ": ";
    line += message;
    line += '\n';
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        const ssize_t w = ::write(STDERR_FILENO, p, left);
        if (w <= 0) break;
        p += w;
        left -= static_cast<size_t>(w);
    }
}

void fatal(const char* func, const std::string& message) {
    write(Level::Error, std::string(func) + ": " + message + " (aborting)");
    std::abort();
}

}  // namespace base::log
