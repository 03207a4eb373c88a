// Planes: which data plane a config asks for on this machine, and its table (docs/ARCHITECTURE.md,
// data planes). The lvs worker programs the table it is given; this is where it comes from.
#pragma once
#include <memory>
#include <optional>

#include "conf/Config.h"
#include "kmod/IpvsTable.h"
#include "kmod/userspace/PlaneTable.h"

namespace director::lvs {

// Which plane cfg's data_plane asks for on this machine: Kernel, Nftables, Userspace or Memory
// ("auto": the kernel's IPVS if it has it, else nftables if nf_tables works here and can do every
// virtual server, else userspace; one log line says which and why). nullopt (after logging why)
// when the asked-for plane is not here.
std::optional<conf::DataPlane> resolvePlane(const conf::Config& cfg);
// The table of a resolved plane: the userspace plane forwards in this process, or, with `remote`,
// through the forwarding worker. Null (after logging why) when it cannot be had.
std::unique_ptr<kmod::IpvsTable> makeTable(conf::DataPlane resolved, const conf::Config& cfg,
                                           std::unique_ptr<kmod::userspace::PlaneLink> remote = {});

// The plane's own settings from the config: the userspace plane's budgets, and IPVS's timeouts
// (none when the config sets none: the plane keeps its own).
kmod::ForwardingLimits forwardingLimits(const conf::Config& cfg);
std::optional<kmod::Timeouts> ipvsTimeouts(const conf::Config& cfg);
// Both, applied to `table` (a plane without budgets ignores them); an error is logged.
void applyPlaneSettings(kmod::IpvsTable& table, const conf::Config& cfg);

}  // namespace director::lvs
