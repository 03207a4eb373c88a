#include <catch2/catch.hpp>

#include "conf/Loader.h"
#include "director/lvs/DesiredState.h"

TEST_CASE("the desired table carries every configured field to the IPVS model") {
    conf::LoadResult r = conf::loadString(R"(
virtual_servers = (
  { address = "10.0.0.1"; port = 80; scheduler = "sh"; scheduler_flags = [ "fallback", "port" ];
    persistence_timeout = 300; persistence_netmask = 24; one_packet = true; persistence_engine = "sip";
    real_servers = ( { address = "10.0.1.1"; port = 8080; weight = 3; upper_threshold = 10; lower_threshold = 5; },
                     { address = "10.0.1.2"; forwarding = "dr"; } ); },
  { fwmark = 9; family = "ipv6"; forwarding = "tun"; tunnel = { type = "gue"; port = 5555; checksum = "csum"; };
    persistence_timeout = 60; persistence_netmask = 64; real_servers = ( { address = "2001:db8::1"; } ); }
);)",
                                          "t.conf");
    REQUIRE(r.ok());
    const kmod::TableState t = director::lvs::desiredTable(*r.config);
    REQUIRE(t.services.size() == 2);
    const auto k = kmod::ServiceKey::inet(*base::IpAddress::parse("10.0.0.1"), kmod::kTcp, 80);
    const auto& e = t.services.at(k);
    CHECK(e.service.scheduler == "sh");
    CHECK(e.service.flags == (kmod::kSvcPersistent | kmod::kSvcOnePacket | kmod::kSvcSched1 | kmod::kSvcSched2));
    CHECK(e.service.timeout == 300);
    CHECK(e.service.netmask == 0xffffff00u);
    CHECK(e.service.peName == "sip");
    const auto& d1 = e.dests.at({*base::IpAddress::parse("10.0.1.1"), 8080});
    CHECK(d1.weight == 3);
    CHECK(d1.upperThreshold == 10);
    CHECK(d1.lowerThreshold == 5);
    CHECK(d1.forwarding == kmod::Forwarding::Masq);
    CHECK(e.dests.at({*base::IpAddress::parse("10.0.1.2"), 80}).forwarding == kmod::Forwarding::Route);
    const auto& m = t.services.at(kmod::ServiceKey::mark(base::Family::V6, 9));
    CHECK(m.service.netmask == 64);
    const auto& td = m.dests.begin()->second;
    CHECK(td.forwarding == kmod::Forwarding::Tunnel);
    CHECK(td.tunnelType == kmod::TunnelType::Gue);
    CHECK(td.tunnelPort == 5555);
    CHECK(td.tunnelFlags == kmod::TunnelChecksum::Csum);
}

#include <sys/stat.h>

#include <unistd.h>
#include <fstream>

#include <filesystem>

#include "director/lvs/ProbeFactory.h"
