#include "kmod/nftables/NftRuleset.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <tuple>

#include "kmod/sched/Schedulers.h"

namespace kmod::nftables {
namespace {
// The seed of every jhash (sh, dh, mh): the same on every director and across rebuilds.
constexpr const char* kJhashSeed = "0x4c565331";

const char* proto(std::uint16_t p) {
    switch (p) {
    case kTcp: return "tcp";
    case kUdp: return "udp";
    case kSctp: return "sctp";
    }
    return "tcp";
}

bool v6(const Service& s) { return s.key.family() == base::Family::V6; }
const char* ipWord(const Service& s) { return v6(s) ? "ip6" : "ip"; }

// Every destination of a fwmark service keeps the client's port (address-only maps); the others
// have theirs.
bool withPorts(const NftService& s) { return !s.service.key.isFwmark(); }

std::string destValue(const NftService& s, const NftDest& d) {
    const std::string a = d.dest.key.address.str();
    return withPorts(s) ? a + " . " + std::to_string(d.dest.key.port) : a;
}

std::string persistType(const Service& s, bool ports) {
    const std::string a = v6(s) ? "ipv6_addr" : "ipv4_addr";
    return a + " : " + a + (ports ? " . inet_service" : "");
}

// The client's network under the persistence netmask.
std::string clientNet(const Service& s, const std::string& which) {
    const std::string w = ipWord(s);
    if (!v6(s)) {
        const std::uint32_t m = s.netmask;
        return w + " " + which + " & " + base::IpAddress::v4(m).str();
    }
    const int prefix = s.netmask > 128 ? 128 : static_cast<int>(s.netmask);
    std::array<std::uint8_t, 16> b{};
    for (int i = 0; i < prefix; ++i) b[static_cast<size_t>(i / 8)] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
    return w + " " + which + " & " + base::IpAddress::fromBytes(base::Family::V6, b.data()).str();
}

std::string vipChain(const ServiceKey& k) {
    std::string a = k.address.str();
    for (char& c : a)
        if (c == '.' || c == ':') c = '_';
    return std::string("vip") + (k.family() == base::Family::V6 ? "6_" : "4_") + a + "_" + proto(k.protocol);
}

std::vector<sched::SchedDest> schedDests(const NftService& s) {
    std::vector<sched::SchedDest> out;
    for (const auto& d : s.dests)
        out.push_back(
            {d.dest.key.address, d.dest.key.port, static_cast<int>(d.dest.weight), 0, 0, false, d.lastWeight});
    return out;
}

// Consecutive slots with the same destination, as nft map elements "0-2 : a . p".
std::string mapElements(const NftService& s, const std::vector<int>& slots) {
    std::string out;
    for (size_t i = 0; i < slots.size();) {
        size_t j = i;
        while (j + 1 < slots.size() && slots[j + 1] == slots[i]) ++j;
        if (slots[i] >= 0) {
            if (!out.empty()) out += ", ";
            out += std::to_string(i) + (j > i ? "-" + std::to_string(j) : "") + " : " +
                   destValue(s, s.dests[static_cast<size_t>(slots[i])]);
        }
        i = j + 1;
    }
    return out;
}

}  // namespace

std::vector<int> schedule(const NftService& svc) {
    const auto dests = schedDests(svc);
    const std::string& name = svc.service.scheduler;
    std::vector<int> slots;
    if (name == "rr" || name == "wrr") {
        // one cycle of the kernel's own sequence: the same interleaving as IPVS
        long period = 0;
        if (name == "rr") {
            for (const auto& d : dests) period += d.weight > 0;
        } else {
            int g = 0;
            for (const auto& d : dests)
                if (d.weight > 0) g = std::gcd(g, d.weight);
            for (const auto& d : dests)
                if (d.weight > 0) period += d.weight / g;
        }
        if (period == 0) return {};
        const long cap = 65536;  // a longer cycle is scaled: the proportions stay, the order is nearly the kernel's
        auto sched = sched::makeScheduler(name, svc.service.flags);
        if (period <= cap) {
            sched->update(dests);
            for (long i = 0; i < period; ++i) slots.push_back(static_cast<int>(*sched->pick(dests, sched::SchedPacket{})));
            return slots;
        }
        long total = 0;
        for (const auto& d : dests) total += d.weight;
        for (size_t i = 0; i < dests.size(); ++i) {
            const long n = dests[i].weight > 0 ? std::max(1L, dests[i].weight * cap / total) : 0;
            slots.insert(slots.end(), static_cast<size_t>(n), static_cast<int>(i));
        }
        return slots;
    }
    if (name == "sh" || name == "dh" || name == "mh") {
        // From the destinations in one canonical order (address, port), not the table's (newest
        // first: a history of servers leaving and coming back): the same servers hash a client to
        // the same one after any rebuild (a restarted lvs worker, a reload) and on the peer director,
        // which has no sync on this plane to carry persistence over. (The kernel's own tables keep
        // their order across an lvs worker's restart; this plane's rules are rebuilt.)
        std::vector<size_t> order(dests.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return std::tie(dests[a].address, dests[a].port) < std::tie(dests[b].address, dests[b].port);
        });
        std::vector<sched::SchedDest> canon;
        for (size_t i : order) canon.push_back(dests[i]);
        std::vector<int> table;
        if (name == "mh") {
            sched::Maglev m(svc.service.flags);
            m.update(canon);
            table = m.table();
        } else {
            sched::HashScheduler h(name == "sh" ? sched::HashScheduler::Kind::Source
                                                : sched::HashScheduler::Kind::Destination,
                                   svc.service.flags);
            h.update(canon);
            table.assign(h.buckets().begin(), h.buckets().end());
        }
        for (int b : table)
            slots.push_back(b >= 0 && static_cast<size_t>(b) < canon.size() && canon[static_cast<size_t>(b)].available()
                                ? static_cast<int>(order[static_cast<size_t>(b)])
                                : -1);
        return slots;
    }
    if (name == "fo") {  // the kernel's: the first available destination of the highest weight
        int best = -1;
        for (size_t i = 0; i < dests.size(); ++i)
            if (dests[i].available() && (best < 0 || dests[i].weight > dests[static_cast<size_t>(best)].weight))
                best = static_cast<int>(i);
        if (best >= 0) slots.push_back(best);
    }
    return slots;
}

std::string chainName(const NftService& s) { return "svc_" + std::to_string(s.id); }
std::string persistMap(const NftService& s) { return "persist_" + std::to_string(s.id); }
std::string counterName(const NftService& s, const NftDest& d, char kind) {
    return std::string(1, kind) + "_" + std::to_string(s.id) + "_" + std::to_string(d.id);
}

std::string Ruleset::base() const {
    const std::string t = "inet " + o_.table;
    std::string out = "add table " + t + "\n";
    for (const char* m :
         {"dispatch4 { type ipv4_addr . inet_proto . inet_service : verdict; }",
          "dispatch6 { type ipv6_addr . inet_proto . inet_service : verdict; }",
          "marks { type nf_proto . mark : verdict; }", "post4 { type ipv4_addr . inet_proto : verdict; }",
          "post6 { type ipv6_addr . inet_proto : verdict; }", "postmarks { type nf_proto . mark : verdict; }"})
        out += "add map " + t + " " + m + "\n";
    for (const char* set : {"vips4 { type ipv4_addr . inet_proto; }", "vips6 { type ipv6_addr . inet_proto; }",
                            "markset { type nf_proto . mark; }"})
        out += "add set " + t + " " + set + "\n";
    for (const char* c : {"prerouting { type nat hook prerouting priority dstnat; policy accept; }",
                          "output { type nat hook output priority -100; policy accept; }"}) {
        out += "add chain " + t + " " + c + "\n";
        const std::string name = std::string(c).substr(0, std::string(c).find(' '));
        out += "add rule " + t + " " + name + " ip daddr . meta l4proto . th dport vmap @dispatch4\n";
        out += "add rule " + t + " " + name + " ip6 daddr . meta l4proto . th dport vmap @dispatch6\n";
        out += "add rule " + t + " " + name + " meta nfproto . meta mark vmap @marks\n";
    }
    out += "add chain " + t + " postrouting { type filter hook postrouting priority filter; policy accept; }\n";
    out += "add rule " + t + " postrouting ct original ip daddr . meta l4proto vmap @post4\n";
    out += "add rule " + t + " postrouting ct original ip6 daddr . meta l4proto vmap @post6\n";
    out += "add rule " + t + " postrouting meta nfproto . ct mark vmap @postmarks\n";
    if (o_.sourceNat) {
        out += "add chain " + t + " srcnat { type nat hook postrouting priority srcnat; policy accept; }\n";
        // only what this plane DNATed: our VIPs' connections, and our marks'
        out += "add rule " + t + " srcnat ct status dnat ct original ip daddr . meta l4proto @vips4 masquerade\n";
        out += "add rule " + t + " srcnat ct status dnat ct original ip6 daddr . meta l4proto @vips6 masquerade\n";
        out += "add rule " + t + " srcnat ct status dnat meta nfproto . ct mark @markset masquerade\n";
    }
    return out;
}

std::string Ruleset::serviceObjects(const NftService& s) const {
    const std::string t = "inet " + o_.table;
    std::string out = "add chain " + t + " " + chainName(s) + "\n";
    out += "add chain " + t + " post_" + std::to_string(s.id) + "\n";
    for (const auto& d : s.dests)
        for (char k : {'n', 'i', 'o'}) out += "add counter " + t + " " + counterName(s, d, k) + "\n";
    const Service& sv = s.service;
    if (sv.flags & kSvcPersistent)
        out += "add map " + t + " " + persistMap(s) + " { type " + persistType(sv, withPorts(s)) +
               "; flags dynamic,timeout; timeout " + std::to_string(std::max<std::uint32_t>(sv.timeout, 1)) + "s; }\n";
    return out;
}

std::string Ruleset::serviceRules(const NftService& s) const {
    const std::string t = "inet " + o_.table;
    const Service& sv = s.service;
    const std::string ip = ipWord(sv);
    const std::string chain = chainName(s), post = "post_" + std::to_string(s.id);
    // a port mapping needs its protocol matched first (fwmark services map addresses only)
    const std::string l4 = withPorts(s) ? std::string("meta l4proto ") + proto(sv.key.protocol) + " " : "";
    const std::string dport = withPorts(s) ? std::string(" . ") + proto(sv.key.protocol) + " dport" : "";
    const std::string sport = withPorts(s) ? std::string(" . ") + proto(sv.key.protocol) + " sport" : "";
    std::string out;
    if (sv.key.isFwmark())
        out += "add rule " + t + " " + chain + " ct mark set " + std::to_string(sv.key.fwmark) + "\n";
    if (sv.flags & kSvcPersistent)
        out += "add rule " + t + " " + chain + " " + l4 + "dnat " + ip + " to " + clientNet(sv, "saddr") + " map @" +
               persistMap(s) + "\n";
    const auto slots = schedule(s);
    const std::string& name = sv.scheduler;
    if (name == "fo" && !slots.empty()) {
        out += "add rule " + t + " " + chain + " " + l4 + "dnat " + ip + " to " +
               destValue(s, s.dests[static_cast<size_t>(slots[0])]) + "\n";
    } else if (!mapElements(s, slots).empty()) {
        std::string key;
        if (name == "rr" || name == "wrr") key = "numgen inc mod " + std::to_string(slots.size());
        else {
            const bool portFlag = (sv.flags & kSvcSched2) && withPorts(s);
            const std::string field = name == "dh" ? "daddr" : "saddr";
            // A fixed seed: without one the kernel draws one per rule, so every director, and every
            // rule rebuilt by a reload or a resync, hashed a client elsewhere (ip_vs_mh's keys are
            // fixed for the same reason). Found by the chaos run: persistent clients moved on failover.
            key = "jhash " + ip + " " + field + (portFlag && name != "dh" ? sport : "") + " mod " +
                  std::to_string(slots.size()) + " seed " + kJhashSeed;
        }
        out += "add rule " + t + " " + chain + " " + l4 + "dnat " + ip + " to " + key + " map { " +
               mapElements(s, slots) + " }\n";
    }
    out += "add rule " + t + " " + chain + " drop\n";  // no destination: dropped, as IPVS does
    // post_N: the counters and the persistence templates
    if (!s.dests.empty()) {
        auto counters = [&](char kind, const std::string& match, const std::string& addr, const std::string& port) {
            std::string elems;
            for (const auto& d : s.dests)
                elems += (elems.empty() ? "" : ", ") + destValue(s, d) + " : \"" + counterName(s, d, kind) + "\"";
            return "add rule " + t + " " + post + " " + l4 + match + " counter name " + ip + " " + addr + port +
                   " map { " + elems + " }\n";
        };
        out += counters('n', "ct direction original ct state new", "daddr", dport);
        out += counters('i', "ct direction original", "daddr", dport);
        out += counters('o', "ct direction reply", "saddr", sport);
    }
    if (sv.flags & kSvcPersistent)
        out += "add rule " + t + " " + post + " " + l4 + "ct direction original ct state new update @" + persistMap(s) +
               " { " + clientNet(sv, "saddr") + " : " + ip + " daddr" + dport + " }\n";
    return out;
}

std::string Ruleset::dispatch(const NftService& s, bool add) const {
    const std::string t = "inet " + o_.table;
    const Service& sv = s.service;
    const std::string verb = add ? "add" : "delete";
    if (sv.key.isFwmark()) {
        const std::string m = std::string(v6(sv) ? "ipv6 . " : "ipv4 . ") + std::to_string(sv.key.fwmark);
        return verb + " element " + t + " marks { " + m + (add ? " : jump " + chainName(s) : "") + " }\n" + verb +
               " element " + t + " postmarks { " + m + (add ? " : jump post_" + std::to_string(s.id) : "") + " }\n" +
               verb + " element " + t + " markset { " + m + " }\n";
    }
    const std::string key = sv.key.address.str() + " . " + proto(sv.key.protocol) + " . " + std::to_string(sv.key.port);
    return verb + " element " + t + " dispatch" + (v6(sv) ? "6" : "4") + " { " + key +
           (add ? " : jump " + chainName(s) : "") + " }\n";
}

// One chain per (VIP, protocol) in postrouting: a rule per port, to the service's post_N; the
// @post maps point at the chains that have rules. Regenerated whole (flush, rules) on a change.
std::string Ruleset::vipChains(const std::vector<NftService>& all) const {
    const std::string t = "inet " + o_.table;
    std::map<std::string, std::pair<ServiceKey, std::string>> chains;
    for (const auto& s : all) {
        if (s.service.key.isFwmark()) continue;
        auto& c = chains[vipChain(s.service.key)];
        c.first = s.service.key;
        c.second += "add rule " + t + " " + vipChain(s.service.key) + " meta l4proto " + proto(s.service.key.protocol) +
                    " ct original proto-dst " + std::to_string(s.service.key.port) + " jump post_" +
                    std::to_string(s.id) + "\n";
    }
    std::string out =
        "flush map " + t + " post4\nflush map " + t + " post6\nflush set " + t + " vips4\nflush set " + t + " vips6\n";
    for (const auto& [name, c] : chains) {
        const std::string fam = c.first.family() == base::Family::V6 ? "6" : "4";
        const std::string key = c.first.address.str() + " . " + proto(c.first.protocol);
        out += "add chain " + t + " " + name + "\nflush chain " + t + " " + name + "\n" + c.second;
        out += "add element " + t + " post" + fam + " { " + key + " : jump " + name + " }\n";
        out += "add element " + t + " vips" + fam + " { " + key + " }\n";
    }
    return out;
}

std::string Ruleset::full(const std::vector<NftService>& services, bool replace) const {
    std::string out;
    if (replace) out += "delete table inet " + o_.table + "\n";
    out += base();
    for (const auto& s : services) out += serviceObjects(s) + serviceRules(s) + dispatch(s, true);
    return out + vipChains(services);
}

std::string Ruleset::changes(const std::vector<Change>& changes, const std::vector<NftService>& all) const {
    // In an order where nothing refers to what is not there (yet, or any more): empty the changed
    // services' chains, create what is new, re-point the post dispatch, fill the chains, and only
    // then delete what went.
    const std::string t = "inet " + o_.table;
    std::string out;
    for (const auto& c : changes) {
        if (!c.before) continue;
        const NftService& b = *c.before;
        out += "flush chain " + t + " " + chainName(b) + "\nflush chain " + t + " post_" + std::to_string(b.id) + "\n";
        if (!c.after) {
            out += dispatch(b, false);
            continue;
        }
        const Service& bs = b.service;
        const Service& as = c.after->service;
        if ((bs.flags & kSvcPersistent) &&
            (!(as.flags & kSvcPersistent) || bs.timeout != as.timeout || bs.netmask != as.netmask))
            out += "delete map " + t + " " + persistMap(b) + "\n";  // its shape changed: made anew
    }
    std::set<std::string> used, goneVips;  // VIP chains some service still needs, and the others
    for (const auto& o : all)
        if (!o.service.key.isFwmark()) used.insert(vipChain(o.service.key));
    for (const auto& c : changes)
        if (c.before && !c.after && !c.before->service.key.isFwmark() &&
            !used.contains(vipChain(c.before->service.key)))
            goneVips.insert(vipChain(c.before->service.key));
    for (const auto& c : changes)
        if (c.after) out += serviceObjects(*c.after);
    out += vipChains(all);
    for (const auto& v : goneVips) out += "flush chain " + t + " " + v + "\n";
    for (const auto& c : changes) {
        if (!c.after) continue;
        out += serviceRules(*c.after);
        if (!c.before) out += dispatch(*c.after, true);
    }
    for (const auto& c : changes) {
        if (!c.before) continue;
        const NftService& b = *c.before;
        std::set<std::uint32_t> keep;
        if (c.after)
            for (const auto& d : c.after->dests) keep.insert(d.id);
        for (const auto& d : b.dests)
            if (!keep.contains(d.id))
                for (char k : {'n', 'i', 'o'}) out += "delete counter " + t + " " + counterName(b, d, k) + "\n";
        if (c.after) continue;
        out +=
            "delete chain " + t + " " + chainName(b) + "\ndelete chain " + t + " post_" + std::to_string(b.id) + "\n";
        if (b.service.flags & kSvcPersistent) out += "delete map " + t + " " + persistMap(b) + "\n";
    }
    for (const auto& v : goneVips) out += "delete chain " + t + " " + v + "\n";
    return out;
}

}  // namespace kmod::nftables
