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

struct Named {
    const Command* cmd;
    std::string user;  // empty: global.script_user
    std::string what;  // the setting, for the diagnostic
    Location where;
};

std::string at(const std::string& list, size_t i) { return list + "[" + std::to_string(i) + "]"; }

std::vector<Named> commandsOf(const Config& cfg) {
    std::vector<Named> out;
    auto add = [&](const Command& c, const std::string& user, const std::string& what, const Location& where) {
        if (!c.empty()) out.push_back({&c, user, what, where});
    };
    auto notify = [&](const NotifyConfig& n, const std::string& base, const Location& where) {
        add(n.master, "", base + ".master", where);
        add(n.backup, "", base + ".backup", where);
        add(n.fault, "", base + ".fault", where);
        add(n.stop, "", base + ".stop", where);
        add(n.generic, "", base + ".generic", where);
    };
    for (size_t i = 0; i < cfg.vrrpScripts.size(); ++i)
        add(cfg.vrrpScripts[i].command, cfg.vrrpScripts[i].user, at("vrrp_scripts", i) + ".script",
            cfg.vrrpScripts[i].where);
    for (size_t i = 0; i < cfg.vrrpInstances.size(); ++i)
        notify(cfg.vrrpInstances[i].notify, at("vrrp_instances", i) + ".notify", cfg.vrrpInstances[i].where);
    for (size_t i = 0; i < cfg.syncGroups.size(); ++i)
        notify(cfg.syncGroups[i].notify, at("vrrp_sync_groups", i) + ".notify", cfg.syncGroups[i].where);
    for (size_t i = 0; i < cfg.virtualServers.size(); ++i) {
        const auto& vs = cfg.virtualServers[i];
        const std::string p = at("virtual_servers", i);
        add(vs.quorumUp, "", p + ".quorum_up", vs.where);
        add(vs.quorumDown, "", p + ".quorum_down", vs.where);
        for (size_t j = 0; j < vs.realServers.size(); ++j) {
            const auto& rs = vs.realServers[j];
            const std::string q = at(p + ".real_servers", j);
            add(rs.notifyUp, "", q + ".notify_up", rs.where);
            add(rs.notifyDown, "", q + ".notify_down", rs.where);
            for (size_t k = 0; k < rs.checks.size(); ++k)
                add(rs.checks[k].command, rs.checks[k].user, at(q + ".checks", k) + ".script", rs.checks[k].where);
        }
    }
    return out;
}

}  // namespace

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
    for (const auto& n : commandsOf(cfg)) {
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
