#include "kmod/nftables/NftablesIpvsTable.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "base/Log.h"
#include "kmod/Diff.h"
#include "kmod/memory/InMemoryIpvsTable.h"
#include "kmod/nftables/Conntrack.h"

namespace kmod::nftables {
namespace {

// The elements of a listed set or map: "key [expires ...] : value" each, between "elements = {"
// and its "}", possibly over many lines.
std::vector<std::pair<std::string, std::string>> elements(const std::string& listing,
                                                          std::vector<std::string>* expires = nullptr) {
    std::vector<std::pair<std::string, std::string>> out;
    auto start = listing.find("elements = {");
    if (start == std::string::npos) return out;
    start += 12;
    const auto end = listing.find('}', start);
    std::string body = listing.substr(start, end - start);
    for (char& c : body)
        if (c == '\n' || c == '\t') c = ' ';
    std::stringstream ss(body);
    for (std::string item; std::getline(ss, item, ',');) {
        const auto colon = item.find(" : ");
        if (colon == std::string::npos) continue;
        std::stringstream k(item.substr(0, colon));
        std::string key, word, exp;
        k >> key;
        while (k >> word)
            if (word == "expires") k >> exp;
        std::string value = item.substr(colon + 3);
        while (!value.empty() && value.back() == ' ') value.pop_back();
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        out.emplace_back(key, value);
        if (expires) expires->push_back(exp);
    }
    return out;
}

// "4m59s984ms" -> 299
std::uint32_t nftSeconds(const std::string& t) {
    std::uint64_t total = 0, n = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(t[i]))) {
            n = n * 10 + static_cast<std::uint64_t>(t[i] - '0');
            continue;
        }
        if (t.compare(i, 2, "ms") == 0) {
            ++i;
        } else if (t[i] == 'd') {
            total += n * 86400;
        } else if (t[i] == 'h') {
            total += n * 3600;
        } else if (t[i] == 'm') {
            total += n * 60;
        } else if (t[i] == 's') {
            total += n;
        }
        n = 0;
    }
    return static_cast<std::uint32_t>(total);
}

std::uint32_t readSysctl(const char* name, std::uint32_t fallback) {
    std::ifstream in(std::string("/proc/sys/net/netfilter/") + name);
    std::uint32_t v = 0;
    return in >> v ? v : fallback;
}

bool writeSysctl(const char* name, std::uint32_t v) {
    std::ofstream out(std::string("/proc/sys/net/netfilter/") + name);
    out << v;
    return static_cast<bool>(out);
}

std::string destText(const nftables::NftService& s, const DestKey& d) {
    return s.service.key.isFwmark() ? d.address.str() : d.address.str() + " . " + std::to_string(d.port);
}

}  // namespace

NftablesIpvsTable::NftablesIpvsTable(nftables::RulesetOptions options) : rules_(std::move(options)) {}

std::unique_ptr<NftablesIpvsTable> NftablesIpvsTable::open(nftables::RulesetOptions options, std::string& why) {
    std::unique_ptr<NftablesIpvsTable> t(new NftablesIpvsTable(std::move(options)));
    if (!t->nft_.ok()) {
        why = "libnftables cannot make a context";
        return nullptr;
    }
    // nf_tables with NAT, as the plane uses it: a throwaway table, created and deleted in one
    // transaction (nothing of it ever exists)
    const std::string probe = "add table inet " + t->rules_.options().table + "_probe\n" + "add chain inet " +
                              t->rules_.options().table +
                              "_probe p { type nat hook prerouting priority dstnat; }\n"
                              "delete table inet " +
                              t->rules_.options().table + "_probe\n";
    if (auto err = t->nft_.run(probe)) {
        why = "nf_tables refused a NAT chain: " + *err;
        while (!why.empty() && why.back() == '\n') why.pop_back();
        return nullptr;
    }
    return t;
}

std::vector<nftables::NftService> NftablesIpvsTable::services(const std::map<ServiceKey, nftables::NftService>& model) const {
    std::vector<nftables::NftService> out;
    for (const auto& [k, s] : model) out.push_back(s);
    return out;
}

std::error_code NftablesIpvsTable::applyToModel(std::map<ServiceKey, nftables::NftService>& model, const Op& op) {
    const ServiceKey& key = op.service.key;
    auto it = model.find(key);
    switch (op.kind) {
    case Op::Kind::AddService: model.emplace(key, nftables::NftService{nextService_++, op.service, {}}); return {};
    case Op::Kind::EditService: it->second.service = op.service; return {};
    case Op::Kind::DelService: model.erase(it); return {};
    case Op::Kind::AddDest: {
        auto& dests = it->second.dests;  // the kernel's list order: newest first
        dests.insert(dests.begin(), nftables::NftDest{nextDest_++, op.dest, static_cast<int>(op.dest.weight)});
        return {};
    }
    case Op::Kind::EditDest:
        for (auto& d : it->second.dests)
            if (d.dest.key == op.dest.key) {
                d.dest = op.dest;
                if (op.dest.weight > 0) d.lastWeight = static_cast<int>(op.dest.weight);
            }
        return {};
    case Op::Kind::DelDest:
        std::erase_if(it->second.dests, [&](const nftables::NftDest& d) { return d.dest.key == op.dest.key; });
        return {};
    }
    return {};
}

std::optional<std::string> NftablesIpvsTable::commit(const std::string& commands) {
    if (auto err = nft_.run(commands)) return err;
    ++transactions_;
    written_ = true;
    auto listed = nft_.list("table inet " + rules_.options().table, true);
    expected_ = listed ? stripDynamic(*listed) : std::string();
    return std::nullopt;
}

// The listing without what changes by itself: persistence maps (their elements come and go).
std::string NftablesIpvsTable::stripDynamic(const std::string& listing) const {
    std::string out;
    std::stringstream in(listing);
    bool skipping = false;
    for (std::string line; std::getline(in, line);) {
        if (!skipping && line.find("\tmap persist_") == 0) skipping = true;
        if (!skipping) out += line + "\n";
        else if (line == "\t}") skipping = false;
    }
    return out;
}

// The elements of a persistence map that point at destinations that went (IPVS drops the
// templates of a removed destination).
std::string NftablesIpvsTable::persistElementsOf(const nftables::NftService& s, const std::vector<DestKey>& gone) {
    if (!(s.service.flags & kSvcPersistent) || gone.empty()) return {};
    auto listed = nft_.list("map inet " + rules_.options().table + " " + nftables::persistMap(s), false);
    if (!listed) return {};
    std::string keys;
    for (const auto& [k, v] : elements(*listed))
        for (const auto& d : gone)
            if (v == destText(s, d)) keys += (keys.empty() ? "" : ", ") + k;
    if (keys.empty()) return {};
    return "delete element inet " + rules_.options().table + " " + nftables::persistMap(s) + " { " + keys + " }\n";
}

ApplyResult NftablesIpvsTable::apply(const std::vector<Op>& ops) {
    ApplyResult r;
    auto model = model_;
    TableState shadow;
    for (const auto& [k, s] : model_) {
        shadow.addService(s.service);
        for (const auto& d : s.dests) shadow.addDest(k, d.dest);
    }
    std::set<ServiceKey> touched;
    std::vector<size_t> done;
    for (size_t i = 0; i < ops.size(); ++i) {
        const Op& op = ops[i];
        std::error_code ec;
        const bool serviceChange = op.kind == Op::Kind::AddService || op.kind == Op::Kind::EditService;
        if (serviceChange && nftablesUnsupported(op.service) && memory::isKnownScheduler(op.service.scheduler))
            ec = base::errnoCode(EOPNOTSUPP);
        if (!ec && (op.kind == Op::Kind::AddDest || op.kind == Op::Kind::EditDest)) {
            auto it = model.find(op.service.key);
            if (it != model.end() && nftablesUnsupported(it->second.service, op.dest)) ec = base::errnoCode(EOPNOTSUPP);
        }
        if (!ec) ec = applyLikeKernel(shadow, op);
        if (!ec) applyToModel(model, op);
        if (r.record(i, op, ec)) {
            touched.insert(op.service.key);
            done.push_back(i);
        }
    }
    if (touched.empty()) return r;
    // the services this batch puts in the kernel: first time, or new
    std::vector<ServiceKey> fresh;
    for (const auto& k : touched)
        if (!k.isFwmark() && model.contains(k) && (!written_ || !model_.contains(k))) fresh.push_back(k);
    std::string commands;
    if (!written_) {
        // the first transaction of this object replaces the table whole (one that may be there
        // from before, and whatever someone did to it)
        commands = "add table inet " + rules_.options().table + "\n" + rules_.full(services(model), true);
    } else {
        std::vector<nftables::Ruleset::Change> changes;
        std::string templates;
        for (const auto& k : touched) {
            nftables::Ruleset::Change c;
            if (auto it = model_.find(k); it != model_.end()) c.before = it->second;
            if (auto it = model.find(k); it != model.end()) c.after = it->second;
            if (c.before && c.after && c.before->service == c.after->service &&
                c.before->dests.size() == c.after->dests.size()) {
                bool same = true;
                for (size_t i = 0; i < c.before->dests.size(); ++i)
                    same &= c.before->dests[i].dest == c.after->dests[i].dest;
                if (same) continue;  // an edit that changed nothing
            }
            if (c.before && c.after) {
                std::vector<DestKey> gone;
                for (const auto& d : c.before->dests)
                    if (std::none_of(c.after->dests.begin(), c.after->dests.end(),
                                     [&](const nftables::NftDest& a) { return a.dest.key == d.dest.key; }))
                        gone.push_back(d.dest.key);
                templates += persistElementsOf(*c.before, gone);
            }
            changes.push_back(std::move(c));
        }
        if (changes.empty()) {
            model_ = std::move(model);
            return r;
        }
        commands = rules_.changes(changes, services(model)) + templates;
    }
    if (auto err = commit(commands)) {
        // the kernel took none of it: every op that had passed the model's checks failed too
        base::log::error("nftables: the ", rules_.options().table, " table refused a transaction of ", ops.size(),
                         " op(s), nothing changed: ", *err);
        ApplyResult failed;
        for (size_t i = 0; i < ops.size(); ++i) {
            std::error_code ec = base::errnoCode(EPROTO);
            if (r.firstFailure && r.firstFailure->index == i) ec = r.firstFailure->error;
            failed.record(i, ops[i], ec);
        }
        return failed;
    }
    model_ = std::move(model);
    forgetStale(fresh);
    return r;
}

// What came to a service before its rules did is not left to follow the untranslated entry it made
// (Conntrack.h, forgetUntranslated); found by the chaos run: after a restart, requests reusing a
// client port were refused for up to two minutes.
void NftablesIpvsTable::forgetStale(const std::vector<ServiceKey>& fresh) {
    if (fresh.empty()) return;
    const auto n = nftables::forgetUntranslated([&](const nftables::CtEntry& e) {
        return std::any_of(fresh.begin(), fresh.end(), [&](const ServiceKey& k) {
            return e.protocol == k.protocol && e.vport == k.port && e.vaddr == k.address;
        });
    });
    if (!n) base::log::warning("nftables: cannot read conntrack to forget connections made before the rules: ",
                               n.error().message());
    else if (*n > 0)
        base::log::info("nftables: forgot ", *n, " tracked connection(s) to the new services made before their ",
                        "rules, so a client reusing their ports is not refused");
}

base::Result<TableState> NftablesIpvsTable::dump() {
    if (written_) {
        auto listed = nft_.list("table inet " + rules_.options().table, true);
        const std::string now = listed ? stripDynamic(*listed) : std::string();
        if (now != expected_) {
            // drift: someone changed the table. Forget the model: the reconciler adds every service
            // back, and the next transaction writes the table whole again.
            model_.clear();
            written_ = false;
        }
    }
    TableState t;
    for (const auto& [k, s] : model_) {
        t.addService(s.service);
        for (const auto& d : s.dests) t.addDest(k, d.dest);
    }
    return t;
}

std::vector<std::pair<ServiceKey, std::vector<DestKey>>> NftablesIpvsTable::lastDumpOrder() const {
    std::vector<std::pair<ServiceKey, std::vector<DestKey>>> out;
    for (const auto& [k, s] : model_) {
        std::vector<DestKey> dests;
        for (const auto& d : s.dests) dests.push_back(d.dest.key);
        out.emplace_back(k, std::move(dests));
    }
    return out;
}

base::Result<TableStatus> NftablesIpvsTable::status() {
    TableStatus st;
    if (model_.empty()) return st;
    auto listed = nft_.list("counters table inet " + rules_.options().table, false);
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counters;  // name -> packets, bytes
    if (listed) {
        std::stringstream in(*listed);
        std::string word, name;
        while (in >> word) {
            if (word == "counter") in >> name;
            else if (word == "packets") {
                std::uint64_t p = 0, b = 0;
                std::string bytesWord;
                in >> p >> bytesWord >> b;
                counters[name] = {p, b};
            }
        }
    }
    auto conns = nftables::dumpConntrack();
    const auto now = std::chrono::steady_clock::now();
    const double dt =
        lastStatusAt_.time_since_epoch().count() ? std::chrono::duration<double>(now - lastStatusAt_).count() : 0;
    for (const auto& [k, s] : model_) {
        ServiceStatus& ss = st[k];
        for (const auto& d : s.dests) {
            DestStatus& ds = ss.dests[d.dest.key];
            const auto n = counters[nftables::counterName(s, d, 'n')];
            const auto i = counters[nftables::counterName(s, d, 'i')];
            const auto o = counters[nftables::counterName(s, d, 'o')];
            ds.stats = StatsCounters{n.first, i.first, o.first, i.second, o.second};
            auto rate = [&](std::uint64_t v, const std::string& name) -> std::uint64_t {
                auto& last = lastCounters_[name];
                const std::uint64_t r =
                    dt > 0 && v >= last.first ? static_cast<std::uint64_t>((v - last.first) / dt) : 0;
                last.first = v;
                return r;
            };
            ds.rates =
                StatsRates{rate(n.first, nftables::counterName(s, d, 'n')), rate(i.first, nftables::counterName(s, d, 'i') + "p"),
                           rate(o.first, nftables::counterName(s, d, 'o') + "p"),
                           rate(i.second, nftables::counterName(s, d, 'i')), rate(o.second, nftables::counterName(s, d, 'o'))};
            ss.stats.conns += ds.stats.conns;
            ss.stats.inpkts += ds.stats.inpkts;
            ss.stats.outpkts += ds.stats.outpkts;
            ss.stats.inbytes += ds.stats.inbytes;
            ss.stats.outbytes += ds.stats.outbytes;
            ss.rates.cps += ds.rates.cps;
            ss.rates.inpps += ds.rates.inpps;
            ss.rates.outpps += ds.rates.outpps;
            ss.rates.inbps += ds.rates.inbps;
            ss.rates.outbps += ds.rates.outbps;
        }
        if (!conns) continue;
        for (const auto& c : *conns) {
            if (!c.dnat) continue;
            const bool mine = k.isFwmark() ? c.mark == k.fwmark
                                           : c.vaddr == k.address && c.vport == k.port && c.protocol == k.protocol;
            if (!mine) continue;
            for (auto& [dk, ds] : ss.dests)
                if (dk.address == c.daddr && (k.isFwmark() || dk.port == c.dport))
                    (c.active ? ds.activeConns : ds.inactConns)++;
        }
    }
    lastStatusAt_ = now;
    return st;
}

base::Result<std::vector<ConnEntry>> NftablesIpvsTable::connections() {
    std::vector<ConnEntry> out;
    auto conns = nftables::dumpConntrack();
    if (!conns) return conns.error();
    for (const auto& [k, s] : model_) {
        for (const auto& c : *conns) {
            if (!c.dnat) continue;
            const bool mine = k.isFwmark() ? c.mark == k.fwmark
                                           : c.vaddr == k.address && c.vport == k.port && c.protocol == k.protocol;
            if (!mine) continue;
            out.push_back(ConnEntry{protocolName(c.protocol), c.client, c.clientPort, c.vaddr, c.vport, c.daddr,
                                    c.dport, c.state, c.expires, "", ""});
        }
        // the persistence templates, as IPVS lists them: client network, port 0, state NONE
        if (!(s.service.flags & kSvcPersistent)) continue;
        auto listed = nft_.list("map inet " + rules_.options().table + " " + nftables::persistMap(s), false);
        if (!listed) continue;
        std::vector<std::string> expires;
        const auto elems = elements(*listed, &expires);
        for (size_t i = 0; i < elems.size(); ++i) {
            ConnEntry e;
            e.protocol = k.isFwmark() ? "IP" : protocolName(k.protocol);
            auto client = base::IpAddress::parse(elems[i].first);
            std::stringstream v(elems[i].second);
            std::string a, dot;
            std::uint32_t port = 0;
            v >> a >> dot >> port;
            auto dest = base::IpAddress::parse(a);
            if (!client || !dest) continue;
            e.client = *client;
            e.vaddr = k.address;
            e.vport = k.port;
            e.daddr = *dest;
            e.dport = static_cast<std::uint16_t>(port);
            e.state = "NONE";
            e.expires = nftSeconds(expires[i]);
            out.push_back(e);
        }
    }
    return out;
}

std::error_code NftablesIpvsTable::flush() {
    std::vector<Op> ops;
    for (const auto& [k, s] : model_) ops.push_back(Op{Op::Kind::DelService, s.service, {}});
    const auto r = apply(ops);
    return r.firstFailure ? r.firstFailure->error : std::error_code{};
}

// The plane's connection timeouts are conntrack's (for the whole network namespace).
base::Result<Timeouts> NftablesIpvsTable::timeouts() {
    return Timeouts{readSysctl("nf_conntrack_tcp_timeout_established", 432000),
                    readSysctl("nf_conntrack_tcp_timeout_fin_wait", 120),
                    readSysctl("nf_conntrack_udp_timeout_stream", 120)};
}

std::error_code NftablesIpvsTable::setTimeouts(const Timeouts& t) {
    bool ok = true;
    if (t.tcp) ok &= writeSysctl("nf_conntrack_tcp_timeout_established", t.tcp);
    if (t.tcpFin) ok &= writeSysctl("nf_conntrack_tcp_timeout_fin_wait", t.tcpFin);
    if (t.udp) ok &= writeSysctl("nf_conntrack_udp_timeout_stream", t.udp);
    return ok ? std::error_code{} : base::errnoCode(EPERM);
}

std::error_code NftablesIpvsTable::zero(const std::optional<ServiceKey>& only) {
    if (only && !model_.contains(*only)) return base::errnoCode(ESRCH);
    std::string cmds;
    for (const auto& [k, s] : model_) {
        if (only && k != *only) continue;
        for (const auto& d : s.dests)
            for (char c : {'n', 'i', 'o'})
                cmds += "reset counter inet " + rules_.options().table + " " + nftables::counterName(s, d, c) + "\n";
    }
    if (cmds.empty()) return {};
    lastCounters_.clear();
    return nft_.run(cmds) ? base::errnoCode(EIO) : std::error_code{};
}

std::optional<PlaneInfo> NftablesIpvsTable::info() {
    return PlaneInfo{0x010201, readSysctl("nf_conntrack_buckets", 4096)};
}

}  // namespace kmod::nftablesables
