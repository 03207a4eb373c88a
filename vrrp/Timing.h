// VRRP timing (RFC 5798, 6.1; RFC 3768, 6.1), in microseconds so that backups of different priority
// never fire together (keepalived rounds to centiseconds on the wire, not in its timers).
#pragma once
#include <chrono>

namespace vrrp {

using Micros = std::chrono::microseconds;

// Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
Micros skewTime(int priority, Micros advertInterval);
// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
Micros masterDownInterval(int priority, Micros advertInterval);
// v3 carries the interval in centiseconds (12 bits); v2 in whole seconds (8 bits).
int toCentiseconds(Micros interval);

}  // namespace vrrp
