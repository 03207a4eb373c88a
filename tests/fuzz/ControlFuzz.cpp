// libFuzzer: the frames on the control socket and between the workers: any byte stream, cut
// anywhere, gives whole frames or none, and every decoder takes any payload.
#include <cstdint>

#include "director/protocol/Control.h"
#include "director/protocol/Messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
    using namespace director::protocol;
    if (size == 0) return 0;
    const size_t step = 1 + data[0] % 32;
    FrameReader in(1 << 16);
    for (size_t i = 1; i < size; i += step) {
        in.append(reinterpret_cast<const char*>(data + i), std::min(step, size - i));
        while (auto f = in.next()) {
            (void)decodeRequest(*f);
            (void)decodeReply(*f);
            (void)decode(*f);
        }
        if (in.broken()) break;
    }
    return 0;
}
