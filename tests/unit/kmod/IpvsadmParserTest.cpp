// The ipvsadm command line against Debian's ipvsadm 1.31 itself: tests/fixtures/ipvsadm/matrix.txt
// holds what ipvsadm answered (exit status, first line of its errors) to every command with every
// option, and to value checks, recorded in the IPVS VM (make-matrix.py). Every answer ipvsadm gave
// while reading its command line (exit status 2 or 255) must be ours, word for word; every command
// line it accepted must parse here too (what the kernel then said is the vm tier's business).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "kmod/ipvsadm/Ipvsadm.h"

namespace {

struct Case {
    std::vector<std::string> args;
    int status;
    std::string error;
};

std::vector<Case> fixture() {
    std::ifstream in(std::string(DIRECTORD_SOURCE_DIR) + "/tests/fixtures/ipvsadm/matrix.txt");
    std::vector<Case> out;
    for (std::string line; std::getline(in, line);) {
        const auto bar = line.find('|');
        const auto bar2 = line.find('|', bar + 1);
        Case c;
        std::istringstream words(line.substr(0, bar));
        for (std::string w; std::getline(words, w, '\t');)
            if (!w.empty()) c.args.push_back(w);
        c.status = std::stoi(line.substr(bar + 1, bar2 - bar - 1));
        c.error = line.substr(bar2 + 1);
        out.push_back(c);
    }
    return out;
}

// ipvsadm's own parse-time answers: every exit-2 line, and the "Try ... --help" of 255. Runtime
// answers (the kernel's errno) have other texts.
bool parseTime(const Case& c) { return c.status == 2 || c.error.rfind("Try `", 0) == 0; }

}  // namespace

TEST_CASE("ipvsadm parser: every command x option answer of ipvsadm 1.31") {
    const auto cases = fixture();
    REQUIRE(cases.size() > 500);
    size_t refused = 0, accepted = 0;
    for (const auto& c : cases) {
        std::string line;
        for (const auto& a : c.args) line += a + " ";
        INFO("ipvsadm " << line << "-> " << c.status << " " << c.error);
        std::string error;
        int status = 0;
        const auto cmd = kmod::ipvsadm::parseIpvsadm(c.args, error, &status, "ipvsadm");
        if (parseTime(c)) {
            ++refused;
            REQUIRE_FALSE(cmd);
            // "-6 used before -f\n": ipvsadm's own text ends in a newline; the first line is what was recorded
            CHECK(error.substr(0, error.find('\n')) == c.error);
            CHECK(status == c.status);
        } else {
            ++accepted;
            CHECK(cmd);
            CHECK(error.empty());
        }
    }
    CHECK(refused > 400);
    CHECK(accepted > 30);
}

TEST_CASE("ipvsadm parser: what the accepted command lines mean") {
    std::string error;
    auto c = kmod::ipvsadm::parseIpvsadm({"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.1:8080", "-w5", "-i", "--tun-type", "gue",
                                 "--tun-port=6080", "--tun-csum"},
                                error);
    REQUIRE(c);
    CHECK(c->kind == kmod::ipvsadm::IpvsadmCommand::Kind::AddDest);
    CHECK(c->dest.weight == 5);
    CHECK(c->dest.forwarding == kmod::Forwarding::Tunnel);
    CHECK(c->dest.key.port == 80);  // tunnelling keeps the service's port
    CHECK(c->dest.tunnelType == kmod::TunnelType::Gue);
    CHECK(c->dest.tunnelPort == 6080);
    CHECK(c->dest.tunnelFlags == kmod::TunnelChecksum::Csum);
    c = kmod::ipvsadm::parseIpvsadm({"-A", "-t", "[2001:db8::1]:443", "-s", "mh", "-b", "mh-port,mh-fallback", "-p"}, error);
    REQUIRE(c);
    CHECK(c->service.key.family() == base::Family::V6);
    CHECK(c->service.netmask == 128);
    CHECK(c->service.flags == (kmod::kSvcPersistent | kmod::kSvcSched1 | kmod::kSvcSched2));
    CHECK(c->service.timeout == 300);
    c = kmod::ipvsadm::parseIpvsadm({"-Ln", "--stats", "-t", "10.0.0.1:80"}, error);
    REQUIRE(c);
    CHECK(c->list.format == kmod::ipvsadm::ListFormat::Stats);
    CHECK(c->list.only == kmod::ServiceKey::inet(*base::IpAddress::parse("10.0.0.1"), kmod::kTcp, 80));
    c = kmod::ipvsadm::parseIpvsadm({"--set", "900", "120", "300"}, error);
    REQUIRE(c);
    CHECK(c->timeouts == kmod::Timeouts{900, 120, 300});
    c = kmod::ipvsadm::parseIpvsadm({}, error);
    REQUIRE(c);
    CHECK(c->kind == kmod::ipvsadm::IpvsadmCommand::Kind::List);
    c = kmod::ipvsadm::parseIpvsadm({"-A", "-f", "7", "-6", "-M", "64"}, error);
    REQUIRE(c);
    CHECK(c->service.key == kmod::ServiceKey::mark(base::Family::V6, 7));
    CHECK(c->service.netmask == 64);
}
