#include "director/status/StatusReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "vrrp/StateMachine.h"

namespace director::status {
namespace {

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string str() const {
        std::vector<size_t> width;
        for (const auto& r : rows_)
            for (size_t i = 0; i < r.size(); ++i) {
                if (width.size() <= i) width.push_back(0);
                width[i] = std::max(width[i], r[i].size());
            }
        std::string out;
        for (const auto& r : rows_) {
            std::string line;
            for (size_t i = 0; i < r.size(); ++i) {
                line += r[i];
                if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        }
        return out;
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

std::string age(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    const std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
    if (d) return std::to_string(d) + "d" + std::to_string(h) + "h";
    if (h) return std::to_string(h) + "h" + std::to_string(m) + "m";
    if (m) return std::to_string(m) + "m" + std::to_string(s) + "s";
    return std::to_string(s) + "s";
}

std::string stateOf(const ServerRow& s) {
    if (s.sorry) return "SORRY";
    if (s.disabled) return s.up ? "DISABLED" : "DISABLED,DOWN";
    if (!s.up) return "DOWN";
    return s.ramp ? "UP,SLOW-START" : "UP";
}

std::string weightOf(const ServerRow& s) {
    return (s.applied ? std::to_string(*s.applied) : std::string("-")) + "/" + std::to_string(s.configuredWeight);
}

std::string instanceState(const InstanceRow& i) {
    if (i.status) return ::vrrp::stateName(i.status->state);
    return i.role.empty() ? "unknown" : i.role;
}

std::string priorityOf(const InstanceRow& i) {
    if (!i.status) return "-";
    const auto& s = *i.status;
    if (s.effectivePriority == s.priority) return std::to_string(s.priority);
    return std::to_string(s.effectivePriority) + " (" + std::to_string(s.priority) + ")";
}

std::string masterOf(const InstanceRow& i) {
    if (!i.status) return "-";
    if (i.status->state == ::vrrp::State::Master) return "self";
    return i.status->masterSeen ? i.status->masterSeen->str() : "-";
}

std::string upCount(const ServiceRow& v) {
    size_t up = 0, total = 0, disabled = 0;
    for (const auto& s : v.servers) {
        if (s.sorry) continue;
        ++total;
        up += s.up && !s.disabled;
        disabled += s.disabled;
    }
    std::string out = std::to_string(up) + " of " + std::to_string(total) + " up";
    if (disabled) out += ", " + std::to_string(disabled) + " disabled";
    return out;
}

std::string quorumOf(const ServiceRow& v) {
    if (v.quorumUp) return "ok";
    const bool sorry = std::any_of(v.servers.begin(), v.servers.end(), [](const ServerRow& s) { return s.sorry; });
    return sorry ? "LOST (sorry server)" : "LOST";
}

}  // namespace

std::string sinceText(std::int64_t when, std::int64_t now) {
    if (when <= 0) return "-";
    const std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return std::string(buf) + " (" + age(now - when) + ")";
}

std::string renderVrrp(const StatusReport& r) {
    if (r.instances.empty()) return "no VRRP instances configured\n";
    TextTable t({"INSTANCE", "STATE", "PRIORITY", "INTERFACE", "VRID", "VERSION", "MASTER", "TRANSITIONS",
                 "ADVERTS OUT/IN", "DROPPED"});
    for (const auto& i : r.instances) {
        if (!i.status) {
            t.add({i.name, instanceState(i), "-", "-", "-", "-", "-", "-", "-", "-"});
            continue;
        }
        const auto& s = *i.status;
        std::uint64_t dropped = 0;
        for (auto d : s.drops) dropped += d;
        t.add({i.name, instanceState(i), priorityOf(i), s.interface, std::to_string(s.vrid),
               std::to_string(s.version) + (s.family == base::Family::V6 ? " (ipv6)" : ""), masterOf(i),
               std::to_string(s.transitions), std::to_string(s.advertsSent) + "/" + std::to_string(s.advertsReceived),
               std::to_string(dropped)});
    }
    return t.str();
}

std::string renderServers(const StatusReport& r) {
    if (r.services.empty()) return "no virtual servers configured\n";
    TextTable t({"VIRTUAL SERVER", "REAL SERVER", "STATE", "WEIGHT", "ACTIVE", "INACTIVE", "SINCE", "WHY"});
    for (const auto& v : r.services) {
        bool first = true;
        if (v.servers.empty()) t.add({v.vs, "(none)"});
        for (const auto& s : v.servers) {
            t.add({first ? v.vs : "", s.rs, stateOf(s), weightOf(s), std::to_string(s.activeConns),
                   std::to_string(s.inactiveConns), sinceText(s.since, r.now), s.why});
            first = false;
        }
    }
    return t.str() + "(WEIGHT: in the table / configured; - not in the table)\n";
}

std::string renderStatus(const StatusReport& r) {
    std::string out = "directord " + r.version + ", pid " + std::to_string(r.pid) + ", " + r.dataPlane +
                      " data plane\nconfig: " + r.configFile + " (reloads " + std::to_string(r.reloads) +
                      ")\ntable: resyncs " + std::to_string(r.resyncs) + ", drift repairs " +
                      std::to_string(r.driftRepairs) + "\n";
    for (const auto& d : r.syncDaemons) out += "sync: " + d + "\n";
    out += "\n";
    if (r.instances.empty()) {
        out += "no VRRP instances configured\n";
    } else {
        TextTable t({"VRRP INSTANCE", "STATE", "PRIORITY", "INTERFACE", "VRID", "MASTER"});
        for (const auto& i : r.instances)
            t.add({i.name, instanceState(i), priorityOf(i), i.status ? i.status->interface : "-",
                   i.status ? std::to_string(i.status->vrid) : "-", masterOf(i)});
        out += t.str();
    }
    out += "\n";
    if (r.services.empty()) return out + "no virtual servers configured\n";
    TextTable t(
        {"VIRTUAL SERVER", "SCHEDULER", "FORWARDING", "REAL SERVERS", "QUORUM", "ACTIVE", "INACTIVE", "CONNECTIONS"});
    std::vector<std::string> disabled;
    for (const auto& v : r.services) {
        t.add({v.vs, v.scheduler, v.forwarding, upCount(v), quorumOf(v), std::to_string(v.activeConns),
               std::to_string(v.inactiveConns), std::to_string(v.connections)});
        for (const auto& s : v.servers)
            if (s.disabled) disabled.push_back(s.rs + " of " + v.vs + " since " + sinceText(s.since, r.now));
    }
    out += t.str();
    for (const auto& d : disabled) out += "disabled: " + d + "\n";
    if (r.announcing) {
        out += "\nannounced in routing table " + std::to_string(r.announceTable) +
               (r.withdrawn ? " (the director is withdrawn: directorctl rejoin)" : "") + "\n";
        TextTable a({"VIP", "ANNOUNCED", "WHY"});
        for (const auto& row : r.announcements) a.add({row.vip, row.announced ? "yes" : "no", row.why});
        out += a.str();
    }
    if (!r.bfd.empty()) {
        out += "\n";
        TextTable b({"BFD SESSION", "NEIGHBOR", "STATE", "REMOTE", "INTERVAL", "DETECT", "DIAGNOSTIC"});
        auto ms = [](double v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%gms", v);
            return std::string(buf);
        };
        for (const auto& row : r.bfd)
            b.add({row.name, row.neighbor, row.state, row.remoteState, ms(row.txMs), ms(row.detectMs), row.diag});
        out += b.str();
        if (r.bfdDropped) out += "BFD packets dropped: " + std::to_string(r.bfdDropped) + " (directorctl status --json: by reason)\n";
    }
    return out;
}

void writeServersJson(base::JsonWriter& w, const StatusReport& r) {
    w.beginArray();
    for (const auto& v : r.services) {
        w.beginObject();
        w.field("virtual_server", v.vs);
        w.field("scheduler", v.scheduler);
        w.field("forwarding", v.forwarding);
        w.field("quorum", v.quorum);
        w.field("quorum_up", v.quorumUp);
        w.field("live_weight", static_cast<std::int64_t>(v.liveWeight));
        w.field("active_conns", v.activeConns);
        w.field("inactive_conns", v.inactiveConns);
        w.field("connections", v.connections);  // since the service was added (the plane's counter)
        w.key("real_servers").beginArray();
        for (const auto& s : v.servers) {
            w.beginObject();
            w.field("real_server", s.rs);
            w.field("state", stateOf(s));
            w.field("up", s.up);
            w.field("disabled", s.disabled);
            w.field("sorry_server", s.sorry);
            w.field("weight", static_cast<std::int64_t>(s.configuredWeight));
            if (s.applied) w.field("applied_weight", *s.applied);
            else w.key("applied_weight").null();
            if (s.ramp) w.field("slow_start_share", std::round(*s.ramp * 1000) / 1000);
            w.field("active_conns", s.activeConns);
            w.field("inactive_conns", s.inactiveConns);
            w.field("since", s.since);
            w.field("why", s.why);
            w.field("checks", s.checks);
            w.field("failed_checks", s.failedChecks);
            if (s.checkLatencyMs) w.field("check_latency_ms", std::round(*s.checkLatencyMs * 1000) / 1000);
            else w.key("check_latency_ms").null();
            w.endObject();
        }
        w.endArray();
        w.endObject();
    }
    w.endArray();
}

}  // namespace director::status
