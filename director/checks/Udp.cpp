// udp (keepalived's UDP_CHECK): a datagram to the real server; with require_reply an answer must
// come (and match `reply`), without it no ICMP port unreachable within connect_timeout is up.
#include "conf/Hex.h"
#include "director/checks/CheckKind.h"

namespace director::checks {

extern const CheckKind kUdp;
const CheckKind kUdp{
    conf::CheckType::Udp,
    [](std::ostream& k, const CheckRef& r) {
        k << " payload=" << conf::hexText(r.c.payload) << " require=" << r.c.requireReply
          << " reply=" << conf::hexText(r.c.reply, r.c.replyMask) << " len=" << r.c.minReplyLength << '-'
          << r.c.maxReplyLength;
    },
    [](asio::io_context& io, const CheckRef& r, std::string&) -> std::unique_ptr<healthcheck::Probe> {
        healthcheck::UdpExpect e;
        e.payload = r.c.payload;
        e.requireReply = r.c.requireReply;
        e.reply = r.c.reply;
        e.mask = r.c.replyMask;
        e.minLength = static_cast<std::size_t>(r.c.minReplyLength);
        e.maxLength = static_cast<std::size_t>(r.c.maxReplyLength);
        return std::make_unique<healthcheck::UdpProbe>(io, udpTarget(r), std::move(e));
    },
};

}  // namespace director::checks
