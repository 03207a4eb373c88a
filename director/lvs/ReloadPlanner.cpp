#include "director/lvs/ReloadPlanner.h"

#include <algorithm>
#include <map>
#include <set>
#include <type_traits>

#include "director/lvs/DesiredState.h"

namespace director::lvs {
namespace {

template <class Item, class KeyFn, class NameFn>
void compare(const std::vector<Item>& before, const std::vector<Item>& after, KeyFn key, NameFn nameOf,
             std::vector<std::string>& added, std::vector<std::string>& removed, std::vector<std::string>& changed,
             std::vector<std::string>& kept) {
    using K = decltype(key(before.front()));
    std::map<K, const Item*> old;
    for (const auto& i : before) old.emplace(key(i), &i);
    for (const auto& i : after) {
        auto it = old.find(key(i));
        if (it == old.end()) added.push_back(nameOf(i));
        else {
            (*it->second == i ? kept : changed).push_back(nameOf(i));
            old.erase(it);
        }
    }
    for (const auto& [k, i] : old) removed.push_back(nameOf(*i));
}

}  // namespace

ReloadPlan planReload(const conf::Config& before, const conf::Config& after) {
    ReloadPlan p;
    compare(
        before.virtualServers, after.virtualServers, [](const conf::VirtualServer& v) { return serviceKey(v); },
        [](const conf::VirtualServer& v) { return v.str(); }, p.vsAdded, p.vsRemoved, p.vsChanged, p.vsKept);
    compare(
        before.vrrpInstances, after.vrrpInstances, [](const conf::VrrpInstance& v) { return v.name; },
        [](const conf::VrrpInstance& v) { return v.name; }, p.vrrpAdded, p.vrrpRemoved, p.vrrpChanged, p.vrrpKept);
    std::map<kmod::ServiceKey, const conf::VirtualServer*> old;
    for (const auto& v : before.virtualServers) old.emplace(serviceKey(v), &v);
    for (const auto& v : after.virtualServers) {
        const auto key = serviceKey(v);
        auto it = old.find(key);
        if (it == old.end() || !(*it->second == v)) p.vsTouched.insert(key);
        if (it != old.end()) old.erase(it);
    }
    for (const auto& [k, v] : old) p.vsTouched.insert(k);
    // a track file or BFD instance that changed touches every service with a check following it
    auto changedNames = [](const auto& b, const auto& a) {
        std::map<std::string, const std::remove_cvref_t<decltype(a.front())>*> was;
        std::set<std::string> out;
        for (const auto& x : b) was.emplace(x.name, &x);
        for (const auto& x : a)
            if (auto it = was.find(x.name); it == was.end() || !(*it->second == x)) out.insert(x.name);
        for (const auto& x : b)
            if (std::none_of(a.begin(), a.end(), [&](const auto& y) { return y.name == x.name; })) out.insert(x.name);
        return out;
    };
    const auto files = changedNames(before.trackFiles, after.trackFiles);
    const auto bfds = changedNames(before.bfdInstances, after.bfdInstances);
    for (const auto& v : after.virtualServers)
        for (const auto& rs : v.realServers)
            for (const auto& c : rs.checks)
                if ((c.type == conf::CheckType::File && files.contains(c.trackFile)) ||
                    (c.type == conf::CheckType::Bfd && bfds.contains(c.bfd)))
                    p.vsTouched.insert(serviceKey(v));
    p.globalChanged = !(before.global == after.global);
    return p;
}

std::string ReloadPlan::summary() const {
    auto n = [](const std::vector<std::string>& v) { return std::to_string(v.size()); };
    return "virtual servers: " + n(vsAdded) + " added, " + n(vsRemoved) + " removed, " + n(vsChanged) + " changed, " +
           n(vsKept) + " unchanged; vrrp instances: " + n(vrrpAdded) + " added, " + n(vrrpRemoved) + " removed, " +
           n(vrrpChanged) + " changed, " + n(vrrpKept) + " unchanged" +
           (globalChanged ? "; global settings changed" : "");
}

}  // namespace director::lvs
