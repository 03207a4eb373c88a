// The check types, one row each (Registry.cpp) and one file each (Tcp.cpp, Http.cpp, Script.cpp,
// Udp.cpp, Dns.cpp, Smtp.cpp, Ping.cpp, File.cpp, Grpc.cpp, Bfd.cpp):
// what makes two checks of the type the same check (so a reload keeps it running), and how its
// probe is built on the lvs worker's loop. Adding a check type is a file here, a row in the
// registry and its settings in conf/ (conf/Sections.cpp); ProbeFactory and the health monitor do
// not change. tests/unit/director/checks/ holds every configured type to a row.
#pragma once
#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include "base/Asio.h"
#include "conf/Config.h"
#include "healthcheck/BfdEngine.h"
#include "healthcheck/HttpProbe.h"
#include "healthcheck/Probe.h"
#include "healthcheck/TcpProbe.h"
#include "healthcheck/UdpProbe.h"

namespace director::checks {

// One check of one real server, with the config around it.
struct CheckRef {
    const conf::Config& cfg;
    const conf::VirtualServer& vs;
    const conf::RealServer& rs;
    const conf::CheckConfig& c;
};

struct CheckKind {
    conf::CheckType type;
    // Appends the type's own fields to a check's identity (the target and timing are common).
    void (*key)(std::ostream& k, const CheckRef& r);
    // The probe, or null with `why` when the check cannot run (bad regex, unreadable TLS files,
    // unknown user).
    std::unique_ptr<healthcheck::Probe> (*make)(asio::io_context& io, const CheckRef& r, std::string& why);
    // The check's target is an address only (ping): status and logs name no port.
    bool addressOnly = false;
    // The weight its results carry is added to the real server's (file), not set (a script's
    // dynamic weight).
    bool additiveWeight = false;
    // It runs on its own events (a file's change, a BFD session's), not on delay_loop: every result
    // counts at once (no retries, rise/fall 1; ProbeFactory's checkTiming).
    bool onEvents = false;
    // What status and logs name as its target, when not the address (and port): a track file's or
    // a BFD instance's name.
    std::string (*label)(const CheckRef& r) = nullptr;
};

// The row of a type; null for a type with no row (a bug the registry's test catches).
const CheckKind* find(conf::CheckType type);

// Shared by the types: where a TCP-based check connects (connect_ip / connect_port / bind_ip, the
// virtual server's connect_timeout), and a duration in the probes' unit.
healthcheck::TcpTarget tcpTarget(const CheckRef& r);
// The same for the UDP-based checks (udp, dns): connect_timeout is the whole exchange's.
healthcheck::UdpTarget udpTarget(const CheckRef& r);
std::chrono::microseconds micros(base::Duration d);
// Shared by http/https and grpc (Http.cpp): the Host / :authority, the response timeout and the TLS
// settings of a request over HTTP (`tls`: over TLS), and those settings' part of a check's identity.
healthcheck::HttpSpec httpBase(const CheckRef& r, bool tls);
void tlsKey(std::ostream& k, const conf::CheckConfig& c);
// A bfd_instances entry as the BFD engine runs it (Bfd.cpp; the lvs worker's BfdRelay too).
healthcheck::BfdPeer bfdPeer(const conf::BfdInstance& b);

}  // namespace director::checks
