#include "conf/Validate.h"

#include "conf/ToModel.h"
#include "kmod/NftablesSupport.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

namespace conf {
namespace {

void add(Diagnostics& d, const Location& where, const std::string& path, const std::string& msg) {
    d.push_back(Diagnostic{where.file, where.line, path, msg});
}

std::string at(const std::string& list, size_t i) { return list + "[" + std::to_string(i) + "]"; }

void validateVmacs(const Config& cfg, Diagnostics& d) {
    std::map<std::string, size_t> named;
    std::set<std::string> links;
    for (const auto& v : cfg.vrrpInstances) links.insert(v.interface);
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i) {
        const auto& v = cfg.vrrpInstances[i];
        if (!v.vmac.enabled) continue;
        const std::string p = at("vrrp_instances", i) + ".vmac";
        if (!v.vmac.name.empty()) {
            if (auto [it, fresh] = named.emplace(v.vmac.name, i); !fresh)
                add(d, v.where, p + ".name",
                    "macvlan " + v.vmac.name + " is also instance '" + cfg.vrrpInstances[it->second].name + "''s");
            if (links.contains(v.vmac.name))
                add(d, v.where, p + ".name", v.vmac.name + " is an instance's interface, not a name for a macvlan");
        }
    }
}

void validateVrrp(const Config& cfg, Diagnostics& d) {
    std::map<std::string, size_t> scripts;
    for (size_t i = 0; i < cfg.vrrpScripts.size(); ++i) {
        const auto& s = cfg.vrrpScripts[i];
        if (!scripts.emplace(s.name, i).second)
            add(d, s.where, at("vrrp_scripts", i) + ".name", "duplicate script name '" + s.name + "'");
    }
    std::map<std::string, size_t> instances;
    std::map<std::tuple<std::string, int, base::Family>, size_t> vrids;
    std::map<base::IpAddress, size_t> vips;
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i) {
        const auto& v = cfg.vrrpInstances[i];
        const std::string p = at("vrrp_instances", i);
        if (!instances.emplace(v.name, i).second)
            add(d, v.where, p + ".name", "duplicate instance name '" + v.name + "'");
        auto [it, fresh] = vrids.emplace(std::make_tuple(v.interface, v.vrid, v.family), i);
        if (!fresh)
            add(d, v.where, p + ".virtual_router_id",
                "virtual router id " + std::to_string(v.vrid) + " is already used on " + v.interface +
                    " by instance '" + cfg.vrrpInstances[it->second].name + "'");
        if (v.family == base::Family::V6 && v.version != 3)
            add(d, v.where, p + ".version", "IPv6 needs VRRP version 3");
        else if (v.authType == AuthType::Ah && v.version != 2)
            add(d, v.where, p + ".authentication.type", "AH authentication is VRRPv2 over IPv4 only (set version = 2)");
        for (size_t k = 0; k < v.advertPaths.size(); ++k) {
            const auto& path = v.advertPaths[k];
            const std::string pp = p + ".advert_paths[" + std::to_string(k) + "]";
            if (path.interface == v.interface)
                add(d, v.where, pp + ".interface", "the instance's own interface: a second path needs another link");
            for (size_t j = 0; j < k; ++j)
                if (v.advertPaths[j].interface == path.interface)
                    add(d, v.where, pp + ".interface", "interface " + path.interface + " is a path already");
            auto sameFamily = [&](const base::IpAddress& a) { return a.isV4() == (v.family == base::Family::V4); };
            for (const auto& peer : path.unicastPeers)
                if (!sameFamily(peer))
                    add(d, v.where, pp + ".unicast_peers", peer.str() + " is not of the instance's address family");
            if (path.unicastSource && !sameFamily(*path.unicastSource))
                add(d, v.where, pp + ".unicast_source", "not of the instance's address family");
        }
        if (v.authHmac.enabled && v.authType != AuthType::None)
            add(d, v.where, p + ".auth_hmac",
                "auth_hmac replaces `authentication` (keepalived ignores auth_type with it): remove one of them");
        // an advert carries every virtual address: at most 255 (its count is one byte), and it must
        // fit a 1500-byte frame's IP packet
        {
            const size_t addr = v.family == base::Family::V4 ? 4 : 16;
            const size_t fixed = (v.family == base::Family::V4 ? 20 : 40) + 8 + (v.version == 2 ? 8 : 0) +
                                 (v.authType == AuthType::Ah ? 24 : 0) + (v.authHmac.enabled ? 28 : 0);
            const size_t most = std::min<size_t>(255, (1500 - fixed) / addr);
            if (v.virtualAddresses.size() > most)
                add(d, v.where, p + ".virtual_addresses",
                    std::to_string(v.virtualAddresses.size()) +
                        " virtual addresses do not fit in one advert (at most " + std::to_string(most) + " for VRRPv" +
                        std::to_string(v.version) + (v.family == base::Family::V4 ? " over IPv4" : " over IPv6") +
                        "); put the others in excluded_addresses, which adverts do not carry");
        }
        for (size_t k = 0; k < v.virtualAddresses.size(); ++k) {
            const auto& a = v.virtualAddresses[k].prefix.address;
            if (a.family() != v.family)
                add(d, v.where, at(p + ".virtual_addresses", k),
                    a.str() + " is not an address of the instance's family (set family = \"" +
                        (a.isV4() ? "ipv4" : "ipv6") + "\")");
        }
        for (const auto* list : {&v.virtualAddresses, &v.excludedAddresses})
            for (const auto& va : *list) {
                auto [vit, vfresh] = vips.emplace(va.prefix.address, i);
                if (!vfresh)
                    add(d, v.where, p,
                        "virtual address " + va.prefix.address.str() + " is also claimed by instance '" +
                            cfg.vrrpInstances[vit->second].name + "'");
            }
        if (v.unicastSource && v.unicastSource->family() != v.family)
            add(d, v.where, p + ".unicast_source", "unicast_source is not of the instance's family");
        for (const auto& peer : v.unicastPeers)
            if (peer.family() != v.family)
                add(d, v.where, p + ".unicast_peers", "peer " + peer.str() + " is not of the instance's family");
        for (size_t k = 0; k < v.trackScripts.size(); ++k)
            if (!scripts.contains(v.trackScripts[k].script)) {
                std::string msg = "unknown script '" + v.trackScripts[k].script + "'";
                if (scripts.empty()) msg += " (no vrrp_scripts are defined)";
                add(d, v.trackScripts[k].where, at(p + ".track_scripts", k) + ".script", msg);
            }
    }
    std::map<std::string, std::string> memberOf;
    std::set<std::string> groupNames;
    for (size_t i = 0; i < cfg.syncGroups.size(); ++i) {
        const auto& g = cfg.syncGroups[i];
        const std::string p = at("vrrp_sync_groups", i);
        if (!groupNames.insert(g.name).second)
            add(d, g.where, p + ".name", "duplicate sync group name '" + g.name + "'");
        if (g.members.empty()) add(d, g.where, p + ".members", "a sync group needs at least one member");
        for (const auto& m : g.members) {
            if (!instances.contains(m)) add(d, g.where, p + ".members", "unknown vrrp instance '" + m + "'");
            else if (auto [it, fresh] = memberOf.emplace(m, g.name); !fresh)
                add(d, g.where, p + ".members", "instance '" + m + "' is already in sync group '" + it->second + "'");
        }
    }
    const auto& sd = cfg.global.syncDaemon;
    if (sd.enabled && !sd.vrrpInstance.empty() && !instances.contains(sd.vrrpInstance))
        add(d, sd.where, "global.sync_daemon.vrrp_instance", "unknown vrrp instance '" + sd.vrrpInstance + "'");
    const auto& an = cfg.global.announce;
    if (an.enabled && !an.vrrpInstance.empty() && !instances.contains(an.vrrpInstance))
        add(d, an.where, "global.announce.vrrp_instance", "unknown vrrp instance '" + an.vrrpInstance + "'");
}

// track_processes: unique names, and every instance's reference to one of them.
void validateTrackProcesses(const Config& cfg, Diagnostics& d) {
    std::set<std::string> names;
    for (size_t i = 0; i < cfg.trackProcesses.size(); ++i) {
        const auto& p = cfg.trackProcesses[i];
        if (!names.insert(p.name).second)
            add(d, p.where, at("track_processes", i) + ".name", "duplicate track process name '" + p.name + "'");
    }
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i)
        for (size_t k = 0; k < cfg.vrrpInstances[i].trackProcesses.size(); ++k) {
            const auto& t = cfg.vrrpInstances[i].trackProcesses[k];
            if (!names.contains(t.process))
                add(d, t.where, at(at("vrrp_instances", i) + ".track_processes", k) + ".track_process",
                    "unknown track process '" + t.process + "'" +
                        (names.empty() ? " (no track_processes are defined)" : ""));
        }
}

// track_files: unique names, each in a directory that exists (inotify watches it), and every
// reference (file checks, instances' track_files) to one of them.
void validateTrackFiles(const Config& cfg, Diagnostics& d) {
    std::set<std::string> names;
    for (size_t i = 0; i < cfg.trackFiles.size(); ++i) {
        const auto& f = cfg.trackFiles[i];
        const std::string p = at("track_files", i);
        if (!names.insert(f.name).second) add(d, f.where, p + ".name", "duplicate track file name '" + f.name + "'");
        const auto dir = std::filesystem::path(f.path).parent_path();
        std::error_code ec;
        if (!f.path.empty() && !std::filesystem::is_directory(dir, ec))
            add(d, f.where, p + ".file",
                "directory " + dir.string() + " does not exist (the file may be missing, its directory may not: it is "
                "what is watched)");
    }
    auto unknown = [&](const std::string& n) {
        return "unknown track file '" + n + "'" + (names.empty() ? " (no track_files are defined)" : "");
    };
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i)
        for (size_t k = 0; k < cfg.vrrpInstances[i].trackFiles.size(); ++k) {
            const auto& t = cfg.vrrpInstances[i].trackFiles[k];
            if (!names.contains(t.file))
                add(d, t.where, at(at("vrrp_instances", i) + ".track_files", k) + ".track_file", unknown(t.file));
        }
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i)
        for (size_t j = 0; j < cfg.virtualServers[i].realServers.size(); ++j)
            for (size_t k = 0; k < cfg.virtualServers[i].realServers[j].checks.size(); ++k) {
                const auto& c = cfg.virtualServers[i].realServers[j].checks[k];
                if (c.type == CheckType::File && !c.trackFile.empty() && !names.contains(c.trackFile))
                    add(d, c.where,
                        at(at(at("virtual_servers", i) + ".real_servers", j) + ".checks", k) + ".track_file",
                        unknown(c.trackFile));
            }
}

// bfd_instances: unique names, one session per neighbor (and source, and hop mode: the packets of
// two would be one session's), and every `bfd` check naming one of them.
void validateBfd(const Config& cfg, Diagnostics& d) {
    std::set<std::string> names;
    std::map<std::tuple<std::string, std::string, bool>, std::string> peers;
    for (size_t i = 0; i < cfg.bfdInstances.size(); ++i) {
        const auto& b = cfg.bfdInstances[i];
        const std::string p = at("bfd_instances", i);
        if (!names.insert(b.name).second) add(d, b.where, p + ".name", "duplicate BFD instance name '" + b.name + "'");
        if (!b.neighbor) continue;
        auto [it, fresh] = peers.emplace(std::make_tuple(b.neighbor->str(), b.source ? b.source->str() : "", b.multihop), b.name);
        if (!fresh)
            add(d, b.where, p + ".neighbor_ip",
                "BFD instance '" + it->second + "' already has neighbor " + b.neighbor->str() +
                    (b.source ? " from " + b.source->str() : "") + " (one session per neighbor)");
    }
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i)
        for (size_t k = 0; k < cfg.vrrpInstances[i].trackBfds.size(); ++k) {
            const auto& t = cfg.vrrpInstances[i].trackBfds[k];
            if (!names.contains(t.bfd))
                add(d, t.where, at(at("vrrp_instances", i) + ".track_bfds", k) + ".bfd",
                    "unknown BFD instance '" + t.bfd + "'" + (names.empty() ? " (no bfd_instances are defined)" : ""));
        }
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i)
        for (size_t j = 0; j < cfg.virtualServers[i].realServers.size(); ++j)
            for (size_t k = 0; k < cfg.virtualServers[i].realServers[j].checks.size(); ++k) {
                const auto& c = cfg.virtualServers[i].realServers[j].checks[k];
                if (c.type == CheckType::Bfd && !c.bfd.empty() && !names.contains(c.bfd))
                    add(d, c.where, at(at(at("virtual_servers", i) + ".real_servers", j) + ".checks", k) + ".bfd",
                        "unknown BFD instance '" + c.bfd + "'" + (names.empty() ? " (no bfd_instances are defined)" : ""));
            }
}

void validateVirtualServers(const Config& cfg, Diagnostics& d) {
    std::map<std::tuple<base::Family, std::string, std::optional<base::IpAddress>, int, std::uint32_t>, size_t> seen;
    const bool userspace = cfg.global.dataPlane == DataPlane::Userspace;
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i) {
        const auto& vs = cfg.virtualServers[i];
        const std::string p = at("virtual_servers", i);
        auto key = std::make_tuple(vs.family, vs.fwmark ? std::string() : vs.protocol, vs.address, vs.port, vs.fwmark);
        if (auto [it, fresh] = seen.emplace(key, i); !fresh)
            add(d, vs.where, p,
                "duplicate virtual server " + vs.str() + " (also virtual_servers[" + std::to_string(it->second) + "])");
        if (userspace) {
            const char* why = nullptr;
            if (vs.fwmark) why = "fwmark services";
            else if (vs.port == 0) why = "port 0 (every port) services";
            else if (vs.protocol == "sctp") why = "sctp";
            else if (vs.forwarding != Forwarding::Masq) why = "dr and tun forwarding";
            if (why)
                add(d, vs.where, p,
                    std::string("the userspace data plane does not do ") + why +
                        " (it forwards tcp and udp with full NAT); use data_plane = \"kernel\"");
        }
        std::set<std::pair<base::IpAddress, int>> rsSeen;
        for (size_t k = 0; k < vs.realServers.size(); ++k) {
            const auto& rs = vs.realServers[k];
            const std::string rp = at(p + ".real_servers", k);
            if (!rsSeen.emplace(rs.address, rs.port).second)
                add(d, rs.where, rp, "duplicate real server " + realServerStr(rs) + " in " + vs.str());
            const Forwarding fwd = rs.forwarding.value_or(vs.forwarding);
            if (rs.address.family() != vs.family && fwd != Forwarding::Tunnel)
                add(d, rs.where, rp + ".address",
                    "a real server of another address family than its virtual server needs tun forwarding");
            if (userspace && fwd != Forwarding::Masq)
                add(d, rs.where, rp + ".forwarding", "the userspace data plane forwards with full NAT only");
            if (rs.upperThreshold && rs.lowerThreshold > rs.upperThreshold)
                add(d, rs.where, rp + ".lower_threshold", "lower_threshold is above upper_threshold");
        }
        if (vs.sorryServer && vs.sorryServer->address.family() != vs.family &&
            vs.sorryServer->forwarding.value_or(vs.forwarding) != Forwarding::Tunnel)
            add(d, vs.where, p + ".sorry_server", "the sorry server is not of the virtual server's address family");
    }
}

}  // namespace

Diagnostics planeProblems(const Config& cfg, DataPlane plane, const VirtualServer* only) {
    Diagnostics d;
    if (plane != DataPlane::Nftables) return d;
    const std::string on = "data_plane \"nftables\": ";
    if (!only && cfg.global.syncDaemon.enabled)
        add(d, cfg.global.syncDaemon.where, "global.sync_daemon",
            on + "the nftables plane has no IPVS sync daemon (conntrackd syncs conntrack; the kernel's IPVS and the "
                 "userspace plane have one)");
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i) {
        const auto& vs = cfg.virtualServers[i];
        if (only && &vs != only) continue;
        const kmod::Service svc = serviceOf(vs);
        if (auto w = kmod::nftablesUnsupported(svc)) add(d, vs.where, at("virtual_servers", i), on + *w);
        for (size_t j = 0; j < vs.realServers.size(); ++j)
            if (auto w = kmod::nftablesUnsupported(svc, destOf(vs, vs.realServers[j])))
                add(d, vs.realServers[j].where, at("virtual_servers", i) + at(".real_servers", j), on + *w);
        if (vs.sorryServer) {
            RealServer sorry;
            sorry.address = vs.sorryServer->address;
            sorry.port = vs.sorryServer->port;
            sorry.forwarding = vs.sorryServer->forwarding;
            if (auto w = kmod::nftablesUnsupported(svc, destOf(vs, sorry)))
                add(d, vs.where, at("virtual_servers", i) + ".sorry_server", on + *w);
        }
    }
    return d;
}

std::map<std::string, std::string> vmacNames(const Config& cfg) {
    std::map<std::string, std::string> out;
    std::set<std::string> used;
    for (const auto& v : cfg.vrrpInstances)
        if (v.vmac.enabled && !v.vmac.name.empty()) {
            out[v.name] = v.vmac.name;
            used.insert(v.vmac.name);
        }
    for (const auto& v : cfg.vrrpInstances) {
        if (!v.vmac.enabled || !v.vmac.name.empty()) continue;
        const std::string vrid = "." + std::to_string(v.vrid);
        std::string name = "vrrp" + vrid;
        // keepalived's create_vmac_name: IPv6 tries vrrp6 second; then vrrp1, vrrp2, ... (IPv6 skips 6)
        for (int n = v.family == base::Family::V6 ? 6 : 1; used.contains(name);) {
            name = "vrrp" + std::to_string(n) + vrid;
            if (v.family == base::Family::V6) n = n == 6 ? 1 : (n + 1 == 6 ? 7 : n + 1);
            else ++n;
        }
        used.insert(name);
        out[v.name] = name;
    }
    return out;
}

void validate(const Config& cfg, Diagnostics& diags) {
    validateVrrp(cfg, diags);
    validateVmacs(cfg, diags);
    validateVirtualServers(cfg, diags);
    validateTrackFiles(cfg, diags);
    validateTrackProcesses(cfg, diags);
    validateBfd(cfg, diags);
    if (cfg.global.dataPlane == DataPlane::Nftables)
        for (auto& p : planeProblems(cfg, DataPlane::Nftables)) diags.push_back(std::move(p));
}

}  // namespace conf
