#include "kmod/netlink/IpvsCodec.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstring>

namespace kmod::netlink {

namespace {

// include/uapi/linux/ip_vs.h
enum : std::uint16_t {
    kCmdAttrService = 1,
    kCmdAttrDest = 2,
    kCmdAttrDaemon = 3,
    kCmdAttrTimeoutTcp = 4,
    kCmdAttrTimeoutTcpFin = 5,
    kCmdAttrTimeoutUdp = 6
};
enum : std::uint16_t {
    kSvcAf = 1,
    kSvcProtocol = 2,
    kSvcAddr = 3,
    kSvcPort = 4,
    kSvcFwmark = 5,
    kSvcSchedName = 6,
    kSvcFlags = 7,
    kSvcTimeout = 8,
    kSvcNetmask = 9,
    kSvcStats = 10,
    kSvcPeName = 11,
    kSvcStats64 = 12
};
enum : std::uint16_t {
    kDestAddr = 1,
    kDestPort = 2,
    kDestFwdMethod = 3,
    kDestWeight = 4,
    kDestUThresh = 5,
    kDestLThresh = 6,
    kDestActiveConns = 7,
    kDestInactConns = 8,
    kDestPersistConns = 9,
    kDestStats = 10,
    kDestAddrFamily = 11,
    kDestStats64 = 12,
    kDestTunType = 13,
    kDestTunPort = 14,
    kDestTunFlags = 15
};
enum : std::uint16_t {
    kDaemonState = 1,
    kDaemonMcastIfn = 2,
    kDaemonSyncId = 3,
    kDaemonSyncMaxLen = 4,
    kDaemonMcastGroup = 5,
    kDaemonMcastGroup6 = 6,
    kDaemonMcastPort = 7,
    kDaemonMcastTtl = 8
};
enum : std::uint16_t { kInfoVersion = 1, kInfoConnTabSize = 2 };
enum : std::uint16_t {
    kStatsConns = 1,
    kStatsInPkts = 2,
    kStatsOutPkts = 3,
    kStatsInBytes = 4,
    kStatsOutBytes = 5,
    kStatsCps = 6,
    kStatsInPps = 7,
    kStatsOutPps = 8,
    kStatsInBps = 9,
    kStatsOutBps = 10
};

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

std::uint16_t familyCode(base::Family f) { return f == base::Family::V4 ? AF_INET : AF_INET6; }

void putAddress(AttrWriter& w, std::uint16_t type, const base::IpAddress& a) {
    std::uint8_t raw[16] = {};  // union nf_inet_addr: IPv4 in the first four bytes
    std::memcpy(raw, a.bytes().data(), a.isV4() ? 4 : 16);
    w.put(type, raw, sizeof raw);
}

void putServiceKey(AttrWriter& w, const ServiceKey& k) {
    w.u16(kSvcAf, familyCode(k.family()));
    if (k.isFwmark()) {
        w.u32(kSvcFwmark, k.fwmark);
        return;
    }
    w.u16(kSvcProtocol, k.protocol);
    putAddress(w, kSvcAddr, k.address);
    w.be16(kSvcPort, k.port);
}

// libipvs's order: key, scheduler, persistence engine, flags with a full mask, timeout, netmask.
void putService(AttrWriter& w, const Service& s) {
    putServiceKey(w, s.key);
    w.string(kSvcSchedName, s.scheduler);
    if (!s.peName.empty()) w.string(kSvcPeName, s.peName);
    const std::uint32_t flags[2] = {s.flags, 0xffffffffu};
    w.put(kSvcFlags, flags, sizeof flags);
    w.u32(kSvcTimeout, s.timeout);
    // IPv6: a prefix length (the model's all-ones default means the whole address)
    w.u32(kSvcNetmask, s.key.family() == base::Family::V4 ? htonl(s.netmask) : std::min<std::uint32_t>(s.netmask, 128));
}

void putDest(AttrWriter& w, const Dest& d, bool whole) {
    w.u16(kDestAddrFamily, familyCode(d.key.address.family()));
    putAddress(w, kDestAddr, d.key.address);
    w.be16(kDestPort, d.key.port);
    if (!whole) return;
    w.u32(kDestFwdMethod, static_cast<std::uint32_t>(d.forwarding));
    w.u32(kDestWeight, d.weight);
    w.u8(kDestTunType, static_cast<std::uint8_t>(d.tunnelType));
    w.be16(kDestTunPort, d.tunnelPort);
    w.u16(kDestTunFlags, static_cast<std::uint16_t>(d.tunnelFlags));
    w.u32(kDestUThresh, d.upperThreshold);
    w.u32(kDestLThresh, d.lowerThreshold);
}

template <class T>
std::optional<T> scalar(const Attr& a) {
    if (a.data.size() < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, a.data.data(), sizeof v);
    return v;
}

const Attr* find(const std::vector<Attr>& attrs, std::uint16_t type) {
    for (const auto& a : attrs)
        if (a.type == type) return &a;
    return nullptr;
}

std::optional<std::vector<Attr>> nested(const std::vector<Attr>& top, std::uint16_t type) {
    const Attr* a = find(top, type);
    if (!a) return std::nullopt;
    return parseAttrs(a->data);
}

std::optional<base::IpAddress> address(const std::vector<Attr>& attrs, std::uint16_t type, base::Family f) {
    const Attr* a = find(attrs, type);
    const size_t need = f == base::Family::V4 ? 4 : 16;
    if (!a || a->data.size() < need) return std::nullopt;
    return base::IpAddress::fromBytes(f, a->data.data());
}

std::optional<std::uint16_t> be16At(const std::vector<Attr>& attrs, std::uint16_t type) {
    const Attr* a = find(attrs, type);
    if (!a) return std::nullopt;
    auto v = scalar<std::uint16_t>(*a);
    if (!v) return std::nullopt;
    return ntohs(*v);
}

template <class T>
std::optional<T> at(const std::vector<Attr>& attrs, std::uint16_t type) {
    const Attr* a = find(attrs, type);
    if (!a) return std::nullopt;
    return scalar<T>(*a);
}

std::string stringAt(const std::vector<Attr>& attrs, std::uint16_t type) {
    const Attr* a = find(attrs, type);
    if (!a) return {};
    const auto* p = reinterpret_cast<const char*>(a->data.data());
    return std::string(p, strnlen(p, a->data.size()));
}

// STATS64 (all u64) when the kernel has it, else STATS (u32 except the byte counters).
void readStats(const std::vector<Attr>& attrs, std::uint16_t stats, std::uint16_t stats64, StatsCounters& c,
               StatsRates& r) {
    auto get = [](const std::vector<Attr>& s, std::uint16_t t) -> std::uint64_t {
        const Attr* a = find(s, t);
        if (!a) return 0;
        if (a->data.size() >= 8) return *scalar<std::uint64_t>(*a);
        if (a->data.size() >= 4) return *scalar<std::uint32_t>(*a);
        return 0;
    };
    auto s = nested(attrs, stats64);
    if (!s) s = nested(attrs, stats);
    if (!s) return;
    c.conns = get(*s, kStatsConns);
    c.inpkts = get(*s, kStatsInPkts);
    c.outpkts = get(*s, kStatsOutPkts);
    c.inbytes = get(*s, kStatsInBytes);
    c.outbytes = get(*s, kStatsOutBytes);
    r.cps = get(*s, kStatsCps);
    r.inpps = get(*s, kStatsInPps);
    r.outpps = get(*s, kStatsOutPps);
    r.inbps = get(*s, kStatsInBps);
    r.outbps = get(*s, kStatsOutBps);
}

}  // namespace

void AttrWriter::put(std::uint16_t type, const void* data, size_t len) {
    const auto total = static_cast<std::uint16_t>(NLA_HDRLEN + len);
    const size_t at = out_.size();
    out_.resize(at + align4(total), 0);
    std::memcpy(out_.data() + at, &total, 2);
    std::memcpy(out_.data() + at + 2, &type, 2);
    if (len) std::memcpy(out_.data() + at + NLA_HDRLEN, data, len);
}

void AttrWriter::be16(std::uint16_t type, std::uint16_t v) {
    const std::uint16_t n = htons(v);
    put(type, &n, 2);
}

size_t AttrWriter::beginNest(std::uint16_t type) {
    const size_t at = out_.size();
    put(static_cast<std::uint16_t>(type | NLA_F_NESTED), nullptr, 0);
    return at;
}

void AttrWriter::endNest(size_t at) {
    const auto len = static_cast<std::uint16_t>(out_.size() - at);
    std::memcpy(out_.data() + at, &len, 2);
}

Bytes message(std::uint16_t family, std::uint8_t cmd, std::uint16_t flags, std::uint32_t seq, std::uint32_t portId,
              const Bytes& attrs) {
    Bytes out(NLMSG_HDRLEN + GENL_HDRLEN + attrs.size(), 0);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(out.size());
    h.nlmsg_type = family;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = portId;
    std::memcpy(out.data(), &h, sizeof h);
    genlmsghdr g{};
    g.cmd = cmd;
    g.version = kGenlVersion;
    std::memcpy(out.data() + NLMSG_HDRLEN, &g, sizeof g);
    if (!attrs.empty()) std::memcpy(out.data() + NLMSG_HDRLEN + GENL_HDRLEN, attrs.data(), attrs.size());
    return out;
}

std::uint8_t commandFor(Op::Kind k) {
    switch (k) {
    case Op::Kind::AddService: return kCmdNewService;
    case Op::Kind::EditService: return kCmdSetService;
    case Op::Kind::DelService: return kCmdDelService;
    case Op::Kind::AddDest: return kCmdNewDest;
    case Op::Kind::EditDest: return kCmdSetDest;
    case Op::Kind::DelDest: return kCmdDelDest;
    }
    return 0;
}

Bytes opAttrs(const Op& op) {
    Bytes out;
    AttrWriter w(out);
    const size_t svc = w.beginNest(kCmdAttrService);
    if (op.kind == Op::Kind::AddService || op.kind == Op::Kind::EditService) putService(w, op.service);
    else putServiceKey(w, op.service.key);
    w.endNest(svc);
    if (!op.isServiceOp()) {
        const size_t dest = w.beginNest(kCmdAttrDest);
        putDest(w, op.dest, op.kind != Op::Kind::DelDest);
        w.endNest(dest);
    }
    return out;
}

Bytes serviceKeyAttrs(const ServiceKey& key) {
    Bytes out;
    AttrWriter w(out);
    const size_t svc = w.beginNest(kCmdAttrService);
    putServiceKey(w, key);
    w.endNest(svc);
    return out;
}

Bytes timeoutAttrs(const Timeouts& t) {
    Bytes out;
    AttrWriter w(out);
    if (t.tcp) w.u32(kCmdAttrTimeoutTcp, t.tcp);
    if (t.tcpFin) w.u32(kCmdAttrTimeoutTcpFin, t.tcpFin);
    if (t.udp) w.u32(kCmdAttrTimeoutUdp, t.udp);
    return out;
}

Bytes daemonAttrs(const SyncDaemon& d, bool whole) {
    Bytes out;
    AttrWriter w(out);
    const size_t n = w.beginNest(kCmdAttrDaemon);
    w.u32(kDaemonState, d.state);
    if (whole) {
        w.string(kDaemonMcastIfn, d.interface);
        w.u32(kDaemonSyncId, d.syncId);
        if (d.maxLen) w.u16(kDaemonSyncMaxLen, d.maxLen);
        if (d.group && d.group->isV4()) w.put(kDaemonMcastGroup, d.group->bytes().data(), 4);
        if (d.group && !d.group->isV4()) w.put(kDaemonMcastGroup6, d.group->bytes().data(), 16);
        if (d.port) w.u16(kDaemonMcastPort, d.port);
        if (d.ttl) w.u8(kDaemonMcastTtl, d.ttl);
    }
    w.endNest(n);
    return out;
}

std::optional<std::vector<Attr>> parseAttrs(std::span<const std::uint8_t> data) {
    std::vector<Attr> out;
    size_t pos = 0;
    while (pos + NLA_HDRLEN <= data.size()) {
        std::uint16_t len, type;
        std::memcpy(&len, data.data() + pos, 2);
        std::memcpy(&type, data.data() + pos + 2, 2);
        if (len < NLA_HDRLEN || pos + len > data.size()) return std::nullopt;
        out.push_back(
            Attr{static_cast<std::uint16_t>(type & NLA_TYPE_MASK), data.subspan(pos + NLA_HDRLEN, len - NLA_HDRLEN)});
        pos += align4(len);
    }
    return out;
}

std::optional<std::vector<Message>> splitMessages(std::span<const std::uint8_t> buf) {
    std::vector<Message> out;
    size_t pos = 0;
    while (pos + sizeof(nlmsghdr) <= buf.size()) {
        nlmsghdr h;
        std::memcpy(&h, buf.data() + pos, sizeof h);
        if (h.nlmsg_len < sizeof h || pos + h.nlmsg_len > buf.size()) return std::nullopt;
        out.push_back(Message{Header{h.nlmsg_len, h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq, h.nlmsg_pid},
                              buf.subspan(pos + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN)});
        pos += NLMSG_ALIGN(h.nlmsg_len);
    }
    return out;
}

std::optional<int> errorCode(const Message& m) {
    if (m.header.type != NLMSG_ERROR || m.payload.size() < sizeof(int)) return std::nullopt;
    int e;
    std::memcpy(&e, m.payload.data(), sizeof e);
    return -e;
}

std::optional<std::vector<Attr>> genlAttrs(const Message& m) {
    if (m.payload.size() < GENL_HDRLEN) return std::nullopt;
    return parseAttrs(m.payload.subspan(GENL_HDRLEN));
}

std::optional<ServiceReply> decodeService(const std::vector<Attr>& top) {
    const auto s = nested(top, kCmdAttrService);
    if (!s) return std::nullopt;
    const auto af = at<std::uint16_t>(*s, kSvcAf);
    if (!af || (*af != AF_INET && *af != AF_INET6)) return std::nullopt;
    const base::Family fam = *af == AF_INET ? base::Family::V4 : base::Family::V6;
    ServiceReply r;
    Service& svc = r.service;
    if (const auto mark = at<std::uint32_t>(*s, kSvcFwmark); mark && *mark) {
        svc.key = ServiceKey::mark(fam, *mark);
    } else {
        const auto proto = at<std::uint16_t>(*s, kSvcProtocol);
        const auto addr = address(*s, kSvcAddr, fam);
        const auto port = be16At(*s, kSvcPort);
        if (!proto || !addr || !port) return std::nullopt;
        svc.key = ServiceKey::inet(*addr, *proto, *port);
    }
    svc.scheduler = stringAt(*s, kSvcSchedName);
    svc.peName = stringAt(*s, kSvcPeName);
    if (const Attr* f = find(*s, kSvcFlags); f && f->data.size() >= 4)
        svc.flags = *scalar<std::uint32_t>(*f) & ~kSvcHashed;
    svc.timeout = at<std::uint32_t>(*s, kSvcTimeout).value_or(0);
    const std::uint32_t mask = at<std::uint32_t>(*s, kSvcNetmask).value_or(fam == base::Family::V4 ? 0xffffffffu : 128);
    svc.netmask = fam == base::Family::V4 ? ntohl(mask) : mask;
    readStats(*s, kSvcStats, kSvcStats64, r.status.stats, r.status.rates);
    return r;
}

std::optional<DestReply> decodeDest(const std::vector<Attr>& top, base::Family serviceFamily) {
    const auto d = nested(top, kCmdAttrDest);
    if (!d) return std::nullopt;
    base::Family fam = serviceFamily;
    if (const auto af = at<std::uint16_t>(*d, kDestAddrFamily)) {
        if (*af != AF_INET && *af != AF_INET6) return std::nullopt;
        fam = *af == AF_INET ? base::Family::V4 : base::Family::V6;
    }
    const auto addr = address(*d, kDestAddr, fam);
    const auto port = be16At(*d, kDestPort);
    if (!addr || !port) return std::nullopt;
    DestReply r;
    Dest& dest = r.dest;
    dest.key = DestKey{*addr, *port};
    dest.forwarding = static_cast<Forwarding>(at<std::uint32_t>(*d, kDestFwdMethod).value_or(0) & 0x7);
    dest.weight = at<std::uint32_t>(*d, kDestWeight).value_or(0);
    dest.upperThreshold = at<std::uint32_t>(*d, kDestUThresh).value_or(0);
    dest.lowerThreshold = at<std::uint32_t>(*d, kDestLThresh).value_or(0);
    dest.tunnelType = static_cast<TunnelType>(at<std::uint8_t>(*d, kDestTunType).value_or(0));
    dest.tunnelPort = be16At(*d, kDestTunPort).value_or(0);
    dest.tunnelFlags = static_cast<TunnelChecksum>(at<std::uint16_t>(*d, kDestTunFlags).value_or(0));
    r.status.activeConns = at<std::uint32_t>(*d, kDestActiveConns).value_or(0);
    r.status.inactConns = at<std::uint32_t>(*d, kDestInactConns).value_or(0);
    r.status.persistConns = at<std::uint32_t>(*d, kDestPersistConns).value_or(0);
    readStats(*d, kDestStats, kDestStats64, r.status.stats, r.status.rates);
    return r;
}

std::optional<Timeouts> decodeTimeouts(const std::vector<Attr>& top) {
    const auto tcp = at<std::uint32_t>(top, kCmdAttrTimeoutTcp);
    const auto fin = at<std::uint32_t>(top, kCmdAttrTimeoutTcpFin);
    const auto udp = at<std::uint32_t>(top, kCmdAttrTimeoutUdp);
    if (!tcp || !fin || !udp) return std::nullopt;
    return Timeouts{*tcp, *fin, *udp};
}

std::optional<Info> decodeInfo(const std::vector<Attr>& top) {
    const auto v = at<std::uint32_t>(top, kInfoVersion);
    const auto size = at<std::uint32_t>(top, kInfoConnTabSize);
    if (!v || !size) return std::nullopt;
    return Info{*v, *size};
}

std::optional<SyncDaemon> decodeDaemon(const std::vector<Attr>& top) {
    const auto d = nested(top, kCmdAttrDaemon);
    if (!d) return std::nullopt;
    const auto state = at<std::uint32_t>(*d, kDaemonState);
    if (!state) return std::nullopt;
    SyncDaemon s;
    s.state = *state;
    s.interface = stringAt(*d, kDaemonMcastIfn);
    s.syncId = at<std::uint32_t>(*d, kDaemonSyncId).value_or(0);
    s.maxLen = at<std::uint16_t>(*d, kDaemonSyncMaxLen).value_or(0);
    s.port = at<std::uint16_t>(*d, kDaemonMcastPort).value_or(0);
    s.ttl = at<std::uint8_t>(*d, kDaemonMcastTtl).value_or(0);
    if (const Attr* g = find(*d, kDaemonMcastGroup); g && g->data.size() >= 4)
        s.group = base::IpAddress::fromBytes(base::Family::V4, g->data.data());
    if (const Attr* g = find(*d, kDaemonMcastGroup6); g && g->data.size() >= 16)
        s.group = base::IpAddress::fromBytes(base::Family::V6, g->data.data());
    return s;
}

}  // namespace kmod::netlink
