// Announcer: scale-out past one pair (global.announce, conf/README.md). Each VIP this director is
// ready to serve becomes a host route in a routing table of directord's own, which a routing daemon
// (BIRD's kernel protocol, FRR's ip import-table) exports to its BGP peers; directord speaks no
// routing protocol itself. decide() is pure: which VIPs, and why each one is or is not announced.
// RouteTable is the thin shell over rtnetlink (libnl-route) that makes the table hold exactly
// those routes, touching only routes of its own protocol number in its own table. The lvs worker
// decides after every change of quorum, VRRP role, withdraw or config; the supervisor withdraws
// everything when the lvs worker dies, and `directord --withdraw` when the whole daemon did.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "base/IpAddress.h"
#include "conf/Config.h"
#include "kmod/Model.h"
#include "vrrp/StateMachine.h"

struct nl_sock;

namespace director::lvs {

struct Announcement {
    base::IpAddress vip;
    bool announced = false;
    std::string why;  // "announced", or what holds it back
};

// Every VIP of cfg's (non-fwmark) virtual servers, in address order: announced while each of its
// virtual servers has quorum, the director is not withdrawn and (with announce.vrrp_instance) that
// instance is MASTER.
std::vector<Announcement> decideAnnouncements(const conf::Config& cfg, const std::map<kmod::ServiceKey, bool>& quorumUp,
                                              bool withdrawn, const std::map<std::string, ::vrrp::State>& roles);

class RouteTable {
public:
    RouteTable(int table, int protocol);
    ~RouteTable();
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    // Makes the table hold a host route on lo for each of `vips` and no other route of ours.
    // `added`/`removed` say what changed.
    std::error_code sync(const std::set<base::IpAddress>& vips, std::vector<base::IpAddress>* added = nullptr,
                         std::vector<base::IpAddress>* removed = nullptr);
    // Removes every route of ours from the table.
    std::error_code withdrawAll() { return sync({}); }
    // The VIPs the table holds for us now.
    std::set<base::IpAddress> current();

private:
    nl_sock* sock_ = nullptr;
    int table_, protocol_;
};

// The lvs worker's announcing part: the routing table for global.announce, kept equal to what
// decideAnnouncements says (and repaired when something else changed it), and on the kernel plane
// the sloppy_tcp/sloppy_sctp knobs that ECMP needs.
class Announcing {
public:
    // At start and when global.announce changes: an old table's routes go; at start, whatever a
    // crashed run left is taken back before anything is announced again.
    void configure(const conf::AnnounceConfig& want, bool kernelPlane);
    // Decides again and makes the table say so; `force` rewrites the table even when the decision
    // did not change (a route deleted behind our back comes back).
    void update(const conf::Config& cfg, const std::map<kmod::ServiceKey, bool>& quorumUp, bool withdrawn,
                const std::map<std::string, ::vrrp::State>& roles, bool force = false);
    bool active() const { return routes_ != nullptr; }
    const std::vector<Announcement>& announcements() const { return announcements_; }

private:
    std::unique_ptr<RouteTable> routes_;
    conf::AnnounceConfig config_;
    std::vector<Announcement> announcements_;
    std::set<base::IpAddress> announced_;
};

}  // namespace director::lvs
