// The lvs worker's control part: what directorctl and ipvsctl ask over the control socket
// (director/lvs/ControlServer.h) answered from the worker's state: disable/enable of a real server,
// withdraw/rejoin of the director, reload, the status views, and ipvsadm's commands on the table.
#include <chrono>
#include <sstream>

#include "base/Json.h"
#include "base/Log.h"
#include "director/lvs/LvsWorker.h"
#include "director/lvs/ServerRef.h"
#include "director/status/Snapshot.h"
#include "kmod/ipvsadm/Ipvsadm.h"

namespace director::lvs {

void LvsWorker::control(protocol::ControlRequest&& request, ControlServer::Reply reply) {
    using K = protocol::ControlRequest::Kind;
    switch (request.kind) {
    case K::Disable:
    case K::Enable: return reply(disable(request, request.kind == K::Disable));
    case K::Withdraw:
    case K::Rejoin: {
        const bool withdraw = request.kind == K::Withdraw;
        if (!cfg_.global.announce.enabled)
            return reply({protocol::kCtlRefused, "",
                          "this director announces nothing (no global.announce): nothing to withdraw\n"});
        if (!operator_.withdraw(withdraw))
            return reply({protocol::kCtlOk, withdraw ? "already withdrawn\n" : "not withdrawn\n", ""});
        base::log::notice("control: the director is ", withdraw ? "withdrawn by directorctl: every VIP withdrawn"
                                                                : "back by directorctl rejoin: VIPs announced again");
        publishOperator();
        announce();
        std::string text;
        for (const auto& a : announcing_.announcements()) text += a.vip.str() + ": " + a.why + "\n";
        return reply({protocol::kCtlOk, text, ""});
    }
    case K::Reload: {
        const std::uint64_t id = nextReloadId_++;
        reloadReplies_.emplace(id, std::move(reply));
        base::log::info("control: directorctl reload: asking for ", cfg_.file, " to be read again");
        return toSupervisor_(protocol::ReloadRequestMsg{id});
    }
    default: break;
    }
    // The plane's counters and connections first (the userspace plane asks the forwarding worker).
    table_->refresh([this, request = std::move(request), reply = std::move(reply)] {
        auto text = [&](std::string out) { reply(protocol::ControlReply{protocol::kCtlOk, std::move(out), ""}); };
        switch (request.kind) {
        case K::Status: return text(request.json ? stateJson() + "\n" : renderStatus(statusReport()));
        case K::Servers: {
            if (!request.json) return text(renderServers(statusReport()));
            base::JsonWriter w;
            writeServersJson(w, statusReport());
            return text(w.str() + "\n");
        }
        case K::Vrrp: {
            if (!request.json) return text(renderVrrp(statusReport()));
            base::JsonWriter w;
            status::writeVrrpJson(w, snapshot(false));
            return text(w.str() + "\n");
        }
        default: break;
        }
        protocol::ControlReply r;
        std::string error;
        int status = 2;
        if (auto cmd = kmod::ipvsadm::parseIpvsadm(request.args, error, &status)) {
            std::istringstream input(request.input);
            const auto out = kmod::ipvsadm::runIpvsadm(*cmd, *table_, &input);
            using C = kmod::ipvsadm::IpvsadmCommand::Kind;
            if (cmd->kind != C::List && cmd->kind != C::Save && cmd->kind != C::Help && cmd->kind != C::Version)
                base::log::info("control: ipvsctl changed the ", table_->name(), " table (", request.args.size(),
                                " arguments); directord leaves services it does not manage alone");
            r = protocol::ControlReply{out.status, out.out, out.err};
        } else {
            r = protocol::ControlReply{status, "", error + "\n"};
        }
        reply(std::move(r));
    });
}

// directorctl disable VS RS: weight 0 (no new connections; established ones go on) until enabled,
// across reloads and restarts of this worker. enable: back to its weight, through its slow start.
protocol::ControlReply LvsWorker::disable(const protocol::ControlRequest& request, bool disable) {
    const char* verb = disable ? "disable" : "enable";
    if (request.args.size() != 2)
        return {protocol::kCtlUsage, "", std::string("usage: directorctl ") + verb + " VIRTUAL-SERVER REAL-SERVER\n"};
    std::string error;
    const auto ref = findServer(cfg_, request.args[0], request.args[1], error);
    if (!ref) return {protocol::kCtlRefused, "", error + "\n"};
    const kmod::ServiceKey key = serviceKey(*ref->vs);
    const RsId id{key, kmod::DestKey{ref->rs->address, static_cast<std::uint16_t>(ref->rs->port)}};
    const std::string who = "vs " + ref->vs->str() + " rs " + conf::realServerStr(*ref->rs);
    const auto wall =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (disable ? !operator_.disable(id, wall) : !operator_.enable(id, wall, deps_.timers->now()))
        return {protocol::kCtlOk, who + ": already " + (disable ? "disabled" : "enabled") + "\n", ""};
    if (disable) {
        base::log::notice("control: ", who,
                          ": disabled by directorctl (weight 0: no new connections, established ones go on) until"
                          " `directorctl enable`");
    } else {
        const auto length = ref->rs->slowStart.value_or(ref->vs->slowStart);
        base::log::notice("control: ", who, ": enabled by directorctl",
                          length.count() > 0 ? " (slow start over " + std::to_string(base::toSeconds(length)) + " s)"
                                             : std::string());
    }
    publishOperator();
    const std::set<kmod::ServiceKey> only{key};
    const auto out = recompute(&only);
    snmpDirty_ = true;
    std::string text =
        who + (disable ? ": disabled (weight 0: no new connections; established ones continue)" : ": enabled");
    if (out.dumped && out.result.firstFailure)
        return {protocol::kCtlRefused, "",
                text + ", but the table refused it: " + out.result.firstFailure->error.message() + "\n"};
    return {protocol::kCtlOk, text + "\n", ""};
}

}  // namespace director::lvs
