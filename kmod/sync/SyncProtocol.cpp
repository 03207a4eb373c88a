#include "kmod/sync/SyncProtocol.h"

#include <algorithm>
#include <cstring>

namespace kmod::sync {
namespace {

constexpr std::uint8_t kOptSeq = 1, kOptPeData = 2, kOptPeName = 3, kOptOptional = 0x40;

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void putAddr(std::vector<std::uint8_t>& b, const base::IpAddress& a, bool v6) {
    const auto& bytes = a.bytes();
    b.insert(b.end(), bytes.begin(), bytes.begin() + (v6 ? 16 : 4));
}

}  // namespace

const char* tcpStateName(std::uint16_t s) {
    static const char* const names[] = {"NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
                                        "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};
    return s < kTcpStates ? names[s] : "BUG!";
}

const char* syncDropKey(SyncDrop d) {
    switch (d) {
    case SyncDrop::TooShort: return "too_short";
    case SyncDrop::BadSize: return "bad_size";
    case SyncDrop::WrongSyncId: return "wrong_sync_id";
    case SyncDrop::NotVersion1: return "not_version_1";
    case SyncDrop::Truncated: return "truncated";
    case SyncDrop::BadEntryVersion: return "bad_entry_version";
    case SyncDrop::BadType: return "bad_type";
    case SyncDrop::BadOption: return "bad_option";
    case SyncDrop::UnknownOption: return "unknown_option";
    case SyncDrop::UnknownProtocol: return "unknown_protocol";
    case SyncDrop::BadState: return "bad_state";
    case SyncDrop::BadPe: return "bad_pe";
    case SyncDrop::Foreign: return "foreign";
    case SyncDrop::NotPeer: return "not_a_peer";
    case SyncDrop::Count_: break;
    }
    return "?";
}

size_t entrySize(const SyncConn& c) {
    size_t n = c.family == base::Family::V6 ? kV6EntrySize : kV4EntrySize;
    if (c.seq) n += 2 + 24;
    if (!c.peData.empty()) n += 2 + std::min<size_t>(c.peData.size(), 255) + 2 + std::min<size_t>(c.peName.size(), 16);
    return n;
}

SyncEncoder::SyncEncoder(std::uint8_t syncId, size_t maxLen)
    : syncId_(syncId), maxLen_(std::max<size_t>(maxLen, kHeaderSize + kV6EntrySize + 64)) {
    buf_.assign(kHeaderSize, 0);
}

bool SyncEncoder::add(const SyncConn& c) {
    const size_t len = entrySize(c);
    const size_t pad = (4 - buf_.size() % 4) % 4;
    if (count_ == 255 || buf_.size() + pad + len > maxLen_) return false;
    buf_.insert(buf_.end(), pad, 0);
    const bool v6 = c.family == base::Family::V6;
    buf_.push_back(v6 ? 1 : 0);
    buf_.push_back(c.protocol);
    put16(buf_, static_cast<std::uint16_t>(len & 0x0fff));
    put32(buf_, c.flags);
    put16(buf_, c.state);
    put16(buf_, c.cport);
    put16(buf_, c.vport);
    put16(buf_, c.dport);
    put32(buf_, c.fwmark);
    put32(buf_, c.timeout);
    putAddr(buf_, c.caddr, v6);
    putAddr(buf_, c.vaddr, v6);
    putAddr(buf_, c.daddr, v6);
    if (c.seq) {
        buf_.push_back(kOptSeq);
        buf_.push_back(24);
        for (std::uint32_t w : c.seq->words) put32(buf_, w);
    }
    if (!c.peData.empty()) {
        const size_t dl = std::min<size_t>(c.peData.size(), 255), nl = std::min<size_t>(c.peName.size(), 16);
        buf_.push_back(kOptPeData);
        buf_.push_back(static_cast<std::uint8_t>(dl));
        buf_.insert(buf_.end(), c.peData.begin(), c.peData.begin() + static_cast<long>(dl));
        buf_.push_back(kOptPeName);
        buf_.push_back(static_cast<std::uint8_t>(nl));
        buf_.insert(buf_.end(), c.peName.begin(), c.peName.begin() + static_cast<long>(nl));
    }
    ++count_;
    return true;
}

std::vector<std::uint8_t> SyncEncoder::take() {
    std::vector<std::uint8_t> out = std::move(buf_);
    out[0] = 0;  // reserved: a v0 receiver sees no connections
    out[1] = syncId_;
    out[2] = static_cast<std::uint8_t>(out.size() >> 8);
    out[3] = static_cast<std::uint8_t>(out.size());
    out[4] = static_cast<std::uint8_t>(count_);
    out[5] = 1;  // version
    out[6] = out[7] = 0;
    buf_.assign(kHeaderSize, 0);
    count_ = 0;
    return out;
}

std::variant<SyncDecoded, SyncDrop> decodeSync(std::span<const std::uint8_t> m, std::uint8_t wantSyncId) {
    if (m.size() < 4) return SyncDrop::TooShort;
    if (m.size() != get16(m.data() + 2)) return SyncDrop::BadSize;
    if (wantSyncId != 0 && m[1] != wantSyncId) return SyncDrop::WrongSyncId;
    if (m.size() < kHeaderSize || m[0] != 0 || m[5] != 1 || m[6] != 0 || m[7] != 0) return SyncDrop::NotVersion1;
    SyncDecoded out;
    out.syncId = m[1];
    const std::uint8_t* const end = m.data() + m.size();
    const std::uint8_t* p = m.data() + kHeaderSize;
    for (unsigned i = 0; i < m[4]; ++i) {
        if (end - p < static_cast<long>(kV4EntrySize)) {
            out.drops.push_back(SyncDrop::Truncated);
            break;
        }
        const size_t size = get16(p + 2) & 0x0fff;
        if (static_cast<size_t>(end - p) < size || size < kV4EntrySize) {
            out.drops.push_back(SyncDrop::Truncated);
            break;
        }
        if (get16(p + 2) >> 12) {
            out.drops.push_back(SyncDrop::BadEntryVersion);
            break;
        }
        const std::uint8_t* const entryEnd = p + size;
        const size_t step = (size + 3) & ~size_t{3};  // the next entry starts 4-aligned
        const std::uint8_t* const next = step >= static_cast<size_t>(end - p) ? end : p + step;
        // one entry; stop = drop the rest of the datagram, skip = this entry only
        enum { Ok, Skip, Stop } verdict = Ok;
        SyncDrop why = SyncDrop::Truncated;
        SyncConn c;
        if (p[0] & ~1u) verdict = Stop, why = SyncDrop::BadType;
        const bool v6 = p[0] & 1;
        const size_t base = v6 ? kV6EntrySize : kV4EntrySize;
        if (verdict == Ok && size < base) verdict = Stop, why = SyncDrop::Truncated;
        if (verdict == Ok) {
            c.family = v6 ? base::Family::V6 : base::Family::V4;
            c.protocol = p[1];
            c.flags = get32(p + 4);
            c.state = get16(p + 8);
            c.cport = get16(p + 10);
            c.vport = get16(p + 12);
            c.dport = get16(p + 14);
            c.fwmark = get32(p + 16);
            c.timeout = get32(p + 20);
            const size_t al = v6 ? 16 : 4;
            std::uint8_t a[16] = {};
            auto addr = [&](size_t off) {
                std::memset(a, 0, sizeof a);
                std::memcpy(a, p + off, al);
                return base::IpAddress::fromBytes(c.family, a);
            };
            c.caddr = addr(24);
            c.vaddr = addr(24 + al);
            c.daddr = addr(24 + 2 * al);
            bool seen[4] = {};
            const std::uint8_t* o = p + base;
            while (verdict == Ok && o < entryEnd) {
                if (entryEnd - o < 2) {
                    verdict = Stop, why = SyncDrop::BadOption;
                    break;
                }
                const std::uint8_t type = o[0] & ~kOptOptional, len = o[1];
                if (len == 0 || entryEnd - (o + 2) < len) {
                    verdict = Stop, why = SyncDrop::BadOption;
                    break;
                }
                const std::uint8_t* d = o + 2;
                if (type == kOptSeq) {
                    if (len != 24 || seen[kOptSeq]) verdict = Stop, why = SyncDrop::BadOption;
                    else {
                        SeqData s;
                        for (size_t w = 0; w < 6; ++w) s.words[w] = get32(d + 4 * w);
                        c.seq = s;
                    }
                    seen[kOptSeq] = true;
                } else if (type == kOptPeData) {
                    if (seen[kOptPeData]) verdict = Stop, why = SyncDrop::BadOption;
                    c.peData.assign(reinterpret_cast<const char*>(d), len);
                    seen[kOptPeData] = true;
                } else if (type == kOptPeName) {
                    if (len > 16 || seen[kOptPeName]) verdict = Stop, why = SyncDrop::BadOption;
                    c.peName.assign(reinterpret_cast<const char*>(d), len);
                    seen[kOptPeName] = true;
                } else if (!(o[0] & kOptOptional)) {
                    verdict = Skip, why = SyncDrop::UnknownOption;
                }
                o = d + len;
            }
            if (verdict == Ok && !(c.flags & kTemplate)) {
                const bool known = c.protocol == 6 || c.protocol == 17 || c.protocol == 132;
                const std::uint16_t states = c.protocol == 6 ? kTcpStates : c.protocol == 132 ? kSctpStates : 1;
                if (!known) verdict = Skip, why = SyncDrop::UnknownProtocol;
                else if (c.state >= states) verdict = Skip, why = SyncDrop::BadState;
            }
            if (verdict == Ok && !c.peData.empty() && c.peName.empty()) verdict = Skip, why = SyncDrop::BadPe;
            if (c.peData.empty()) c.peName.clear();  // a name without data: ignored, as the kernel does
        }
        if (verdict == Stop) {
            out.drops.push_back(why);
            break;
        }
        if (verdict == Skip) out.drops.push_back(why);
        else {
            c.flags = (c.flags & kBackupMask) | kSyncFlag;
            out.conns.push_back(std::move(c));
        }
        p = next;
    }
    return out;
}

}  // namespace kmod::sync
