#include "conf/ScriptSecurity.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "base/PathSecurity.h"

namespace conf {
namespace {

std::string at(const std::string& list, size_t i) { return list + "[" + std::to_string(i) + "]"; }

}  // namespace

std::vector<ScriptCommand> scriptCommands(const Config& cfg) {
    std::vector<ScriptCommand> out;
    auto add = [&](const Command& c, const std::string& user, const std::string& what, const std::string& label,
                   const Location& where, bool vrrp) {
        if (!c.empty()) out.push_back({&c, user, what, label, where, vrrp});
    };
    auto notify = [&](const NotifyConfig& n, const std::string& base, const std::string& label, const Location& where) {
        add(n.master, "", base + ".master", label, where, true);
        add(n.backup, "", base + ".backup", label, where, true);
        add(n.fault, "", base + ".fault", label, where, true);
        add(n.stop, "", base + ".stop", label, where, true);
        add(n.generic, "", base + ".generic", label, where, true);
    };
    for (size_t i = 0; i < cfg.vrrpScripts.size(); ++i)
        add(cfg.vrrpScripts[i].command, cfg.vrrpScripts[i].user, at("vrrp_scripts", i) + ".script",
            "vrrp_script " + cfg.vrrpScripts[i].name, cfg.vrrpScripts[i].where, true);
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i) {
        const auto& v = cfg.vrrpInstances[i];
        notify(v.notify, at("vrrp_instances", i) + ".notify", "vrrp_instance " + v.name + " notify", v.where);
        add(v.notifyMasterRxLowerPri, "", at("vrrp_instances", i) + ".notify_master_rx_lower_pri",
            "vrrp_instance " + v.name + " notify_master_rx_lower_pri", v.where, true);
    }
    for (size_t i = 0; i < cfg.syncGroups.size(); ++i)
        notify(cfg.syncGroups[i].notify, at("vrrp_sync_groups", i) + ".notify",
               "vrrp_sync_group " + cfg.syncGroups[i].name + " notify", cfg.syncGroups[i].where);
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i) {
        const auto& vs = cfg.virtualServers[i];
        const std::string p = at("virtual_servers", i);
        add(vs.quorumUp, "", p + ".quorum_up", "a virtual server's quorum script", vs.where, false);
        add(vs.quorumDown, "", p + ".quorum_down", "a virtual server's quorum script", vs.where, false);
        for (size_t j = 0; j < vs.realServers.size(); ++j) {
            const auto& rs = vs.realServers[j];
            const std::string q = at(p + ".real_servers", j);
            add(rs.notifyUp, "", q + ".notify_up", "a real server's notify script", rs.where, false);
            add(rs.notifyDown, "", q + ".notify_down", "a real server's notify script", rs.where, false);
            for (size_t k = 0; k < rs.checks.size(); ++k)
                add(rs.checks[k].command, rs.checks[k].user, at(q + ".checks", k) + ".script", "a script check",
                    rs.checks[k].where, false);
        }
    }
    return out;
}

void checkScripts(const Config& cfg, Diagnostics& out) {
    const bool root = ::geteuid() == 0;
    std::map<std::string, std::optional<uid_t>> users;
    auto uidOf = [&](const std::string& name) -> std::optional<uid_t> {
        auto it = users.find(name);
        if (it != users.end()) return it->second;
        std::vector<char> buf(16384);
        passwd pw{};
        passwd* found = nullptr;
        std::optional<uid_t> uid;
        if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found) uid = pw.pw_uid;
        return users.emplace(name, uid).first->second;
    };
    for (const auto& n : scriptCommands(cfg)) {
        const std::string user = n.user.empty() ? cfg.global.scriptUser : n.user;
        if (!root) continue;  // commands run as ourselves: no user to switch to, no root to protect
        const auto uid = uidOf(user);
        if (!uid) {
            out.push_back(Diagnostic{n.where.file, n.where.line, n.what,
                                     "runs as user '" + user + "', and there is no such user"});
            continue;
        }
        std::string why;
        if (*uid == 0 && cfg.global.scriptSecurity && !base::commandSafeForRoot(n.cmd->argv, why))
            out.push_back(Diagnostic{n.where.file, n.where.line, n.what, why});
    }
}

}  // namespace conf
