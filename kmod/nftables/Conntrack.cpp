#include "kmod/nftables/Conntrack.h"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace kmod::nftables {
namespace {

// conntrack's TCP states (enum tcp_conntrack) by IPVS's names
const char* tcpState(std::uint8_t s) {
    switch (s) {
    case 1: return "SYN_SENT";
    case 2: return "SYN_RECV";
    case 3: return "ESTABLISHED";
    case 4: return "FIN_WAIT";
    case 5: return "CLOSE_WAIT";
    case 6: return "LAST_ACK";
    case 7: return "TIME_WAIT";
    case 8: return "CLOSE";
    case 9: return "SYN_SENT";
    default: return "NONE";
    }
}

base::IpAddress addr(const nf_conntrack* ct, bool v6, int attr4, int attr6) {
    if (!v6) {
        const std::uint32_t a = nfct_get_attr_u32(ct, static_cast<nf_conntrack_attr>(attr4));
        return base::IpAddress::fromBytes(base::Family::V4, reinterpret_cast<const std::uint8_t*>(&a));
    }
    return base::IpAddress::fromBytes(
        base::Family::V6, static_cast<const std::uint8_t*>(nfct_get_attr(ct, static_cast<nf_conntrack_attr>(attr6))));
}

CtEntry entryOf(const nf_conntrack* ct) {
    const bool v6 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) == AF_INET6;
    CtEntry e;
    e.protocol = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
    e.client = addr(ct, v6, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
    e.vaddr = addr(ct, v6, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
    e.daddr = addr(ct, v6, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC);
    e.clientPort = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
    e.vport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
    e.dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
    e.expires = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
    e.mark = nfct_get_attr_u32(ct, ATTR_MARK);
    e.dnat = (nfct_get_attr_u32(ct, ATTR_STATUS) & IPS_DST_NAT) != 0;
    if (e.protocol == IPPROTO_TCP) {
        e.state = tcpState(nfct_get_attr_u8(ct, ATTR_TCP_STATE));
        e.active = e.state == std::string("ESTABLISHED");
    } else {
        e.state = e.protocol == IPPROTO_UDP ? "UDP" : e.protocol == IPPROTO_SCTP ? "ESTABLISHED" : "NONE";
    }
    return e;
}

int collect(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    static_cast<std::vector<CtEntry>*>(data)->push_back(entryOf(ct));
    return NFCT_CB_CONTINUE;
}

struct Doomed {
    const std::function<bool(const CtEntry&)>* stale;
    std::vector<nf_conntrack*> entries;
};

int pick(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    auto& d = *static_cast<Doomed*>(data);
    const CtEntry e = entryOf(ct);
    if (!e.dnat && (*d.stale)(e))
        if (nf_conntrack* copy = nfct_clone(ct)) d.entries.push_back(copy);
    return NFCT_CB_CONTINUE;
}

}  // namespace

base::Result<std::vector<CtEntry>> dumpConntrack() {
    nfct_handle* h = nfct_open(CONNTRACK, 0);
    if (!h) return base::errnoCode(errno ? errno : EPERM);
    std::vector<CtEntry> out;
    nfct_callback_register(h, NFCT_T_ALL, collect, &out);
    std::error_code ec;
    for (std::uint32_t family : {AF_INET, AF_INET6})
        if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) ec = base::errnoCode(errno ? errno : EIO);
    nfct_close(h);
    if (ec) return ec;
    return out;
}

base::Result<size_t> forgetUntranslated(const std::function<bool(const CtEntry&)>& stale) {
    nfct_handle* h = nfct_open(CONNTRACK, 0);
    if (!h) return base::errnoCode(errno ? errno : EPERM);
    Doomed doomed{&stale, {}};
    nfct_callback_register(h, NFCT_T_ALL, pick, &doomed);
    std::error_code ec;
    for (std::uint32_t family : {AF_INET, AF_INET6})
        if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) ec = base::errnoCode(errno ? errno : EIO);
    nfct_callback_unregister(h);
    size_t deleted = 0;
    for (nf_conntrack* ct : doomed.entries) {
        // gone meanwhile (ENOENT) is as good as deleted
        if (nfct_query(h, NFCT_Q_DESTROY, ct) == 0 || errno == ENOENT) ++deleted;
        nfct_destroy(ct);
    }
    nfct_close(h);
    if (ec) return ec;
    return deleted;
}

}  // namespace kmod::nftables
