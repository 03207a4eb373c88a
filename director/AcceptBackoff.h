// What a listener does when accept() fails for want of descriptors (or buffers): the connection
// waits in the backlog, the listener tries again in 100 ms instead of spinning, and says so once per
// episode. Shared by the control socket and the HTTP status listener.
#pragma once
#include <chrono>
#include <utility>

#include "base/Asio.h"
#include "base/Log.h"

namespace director {

// True when `ec` is such a failure: `retry` is armed to call `again` (if the listener is still
// open then); the caller returns without accepting again now.
template <class Again>
bool backOffAccept(const boost::system::error_code& ec, asio::steady_timer& retry, bool& said, const char* who,
                   Again again) {
    if (ec != asio::error::no_descriptors && ec != asio::error::no_buffer_space && ec != asio::error::no_memory)
        return false;
    if (!said)
        base::log::error(who, ": cannot accept a connection: ", ec.message(),
                         "; trying again every 100 ms (raise LimitNOFILE, or look for a descriptor leak)");
    said = true;
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([again = std::move(again)](const boost::system::error_code& tec) {
        if (!tec) again();
    });
    return true;
}

}  // namespace director
