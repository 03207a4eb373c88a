// Durations and time points of the monotonic clock, without the timers (Clock.h) or Asio: what
// plain value types (the config model) need.
#pragma once
#include <chrono>

namespace base {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

inline Duration seconds(double s) { return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s)); }
// For logs and JSON: a duration as seconds.
inline double toSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace base
