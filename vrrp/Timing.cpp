#include "vrrp/Timing.h"

namespace vrrp {

Micros skewTime(int priority, Micros advertInterval) { return Micros((256 - priority) * advertInterval.count() / 256); }

Micros masterDownInterval(int priority, Micros advertInterval) {
    return 3 * advertInterval + skewTime(priority, advertInterval);
}

int toCentiseconds(Micros interval) { return static_cast<int>((interval.count() + 5000) / 10000); }

}  // namespace vrrp
