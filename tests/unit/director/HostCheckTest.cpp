// directord -t's host checks: what the config names that this host lacks, from facts the test
// gives (a host with eth0 and 10.0.0.1, where only /bin/true runs), as file:line warnings.
#include "director/HostCheck.h"

#include <catch2/catch.hpp>

#include "ConfigFixture.h"

namespace {

director::HostFacts host() {
    director::HostFacts h;
    h.interfaces = {"lo", "eth0"};
    h.addresses = {*base::IpAddress::parse("127.0.0.1"), *base::IpAddress::parse("10.0.0.1")};
    h.executable = [](const std::string& p) { return p == "/bin/true"; };
    return h;
}

}  // namespace

TEST_CASE("host check: a config that names only what the host has gives no warning") {
    const auto cfg = fixture::load(R"(
vrrp_instances = ( { name = "VI_1"; interface = "eth0"; virtual_router_id = 1; unicast_source = "10.0.0.1";
  unicast_peers = [ "10.0.0.2" ]; virtual_addresses = ( "10.0.0.10/24" ); notify = { master = "/bin/true"; }; } );
virtual_servers = ( { address = "10.0.0.10"; port = 80; real_servers = ( { address = "10.0.0.20"; port = 80;
  checks = ( { type = "tcp"; bind_ip = "10.0.0.1"; bind_interface = "eth0"; } ); } ); } );
)");
    CHECK(director::hostWarnings(cfg, host()).empty());
}

TEST_CASE("host check: each missing interface, address and program is one warning at its line") {
    const auto cfg = fixture::load(R"(
vrrp_instances = ( { name = "VI_1"; interface = "eth9"; virtual_router_id = 1; unicast_source = "10.0.0.5";
  unicast_peers = [ "10.0.0.2" ]; track_interfaces = ( { interface = "bond0"; } );
  virtual_addresses = ( { address = "10.0.0.10/24"; dev = "eth8"; } ); notify = { master = "/usr/local/bin/nothere"; }; } );
static_addresses = ( { address = "192.0.2.1/24"; dev = "eth7"; } );
virtual_servers = ( { address = "10.0.0.10"; port = 80; real_servers = ( { address = "10.0.0.20"; port = 80;
  checks = ( { type = "tcp"; bind_ip = "10.0.0.9"; bind_interface = "eth6"; } ); } ); } );
)");
    const auto w = director::hostWarnings(cfg, host());
    const std::vector<std::string> want = {
        "t.conf:2: vrrp instance VI_1: interface 'eth9' does not exist on this host",
        "t.conf:2: vrrp instance VI_1 track_interfaces: interface 'bond0' does not exist on this host",
        "t.conf:2: vrrp instance VI_1 VIP 10.0.0.10/24: interface 'eth8' does not exist on this host",
        "t.conf:2: vrrp instance VI_1: unicast_source 10.0.0.5 is not configured on this host (adverts cannot be sent from it)",
        "t.conf: static address 192.0.2.1/24: interface 'eth7' does not exist on this host",
        "t.conf:7: tcp check of 10.0.0.20:80: interface 'eth6' does not exist on this host",
        "t.conf:7: tcp check of 10.0.0.20:80: bind_ip 10.0.0.9 is not configured on this host (the check cannot bind it)",
        "t.conf:2: vrrp_instances[0].notify.master: /usr/local/bin/nothere does not exist or is not executable on "
        "this host (it would fail every run)",
    };
    CHECK(w == want);
}
