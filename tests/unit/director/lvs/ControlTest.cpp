// The lvs worker's control part (director/lvs/LvsWorkerControl.cpp): what directorctl and ipvsctl
// ask, answered from the worker's state, on the memory plane.
#include <catch2/catch.hpp>

#include "World.h"

using director::protocol::ControlReply;
using director::protocol::ControlRequest;
using fixture::World;
using K = ControlRequest::Kind;

namespace {

const char* kTwo = R"(
global = { data_plane = "memory"; };
virtual_servers = (
  { address = "10.0.0.1"; port = 80; scheduler = "wlc"; delay_loop = 10.0; retry = 0;
    real_servers = (
      { address = "10.0.1.1"; port = 80; weight = 2; checks = ( { type = "tcp"; } ); },
      { address = "10.0.1.2"; port = 80; weight = 3; checks = ( { type = "tcp"; } ); }
    ); }
);)";

ControlReply ask(World& w, K kind, std::vector<std::string> args = {}, bool json = false) {
    ControlRequest r;
    r.kind = kind;
    r.args = std::move(args);
    r.json = json;
    std::optional<ControlReply> got;
    w.worker->control(std::move(r), [&](ControlReply reply) { got = std::move(reply); });
    w.advance(std::chrono::seconds(0));
    REQUIRE(got);
    return *got;
}

}  // namespace

TEST_CASE("control: disable and enable a real server, with its weight in the table") {
    World w(kTwo);
    w.worker->start();
    auto r = ask(w, K::Disable, {"10.0.0.1:80", "10.0.1.1"});
    CHECK(r.status == director::protocol::kCtlOk);
    CHECK(r.out.find("disabled (weight 0") != std::string::npos);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 0);
    CHECK(ask(w, K::Disable, {"10.0.0.1:80", "10.0.1.1"}).out.find("already disabled") != std::string::npos);
    r = ask(w, K::Enable, {"10.0.0.1:80", "10.0.1.1"});
    CHECK(r.status == director::protocol::kCtlOk);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.1", 80) == 2);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.2", 80) == 3);  // the other one never moved
}

TEST_CASE("control: wrong arguments, unknown servers and withdraw without announce are refused") {
    World w(kTwo);
    w.worker->start();
    auto r = ask(w, K::Disable, {"10.0.0.1:80"});
    CHECK(r.status == director::protocol::kCtlUsage);
    CHECK(r.err.find("usage: directorctl disable VIRTUAL-SERVER REAL-SERVER") != std::string::npos);
    r = ask(w, K::Enable, {"10.0.0.1:80", "10.0.1.9"});
    CHECK(r.status == director::protocol::kCtlRefused);
    CHECK_FALSE(r.err.empty());
    r = ask(w, K::Withdraw);
    CHECK(r.status == director::protocol::kCtlRefused);
    CHECK(r.err.find("announces nothing") != std::string::npos);
}

TEST_CASE("control: the status views and ipvsadm's commands on the table") {
    World w(kTwo);
    w.worker->start();
    const auto text = ask(w, K::Status);
    CHECK(text.status == director::protocol::kCtlOk);
    CHECK(text.out.find("10.0.0.1:80") != std::string::npos);
    const auto json = ask(w, K::Status, {}, true);
    CHECK(json.out.rfind("{\"pid\":", 0) == 0);
    CHECK(json.out.find("\"table\":[{\"service\":\"TCP  10.0.0.1:80\"") != std::string::npos);
    CHECK(ask(w, K::Servers, {}, true).out.find("10.0.1.2:80") != std::string::npos);

    const auto list = ask(w, K::Ipvsadm, {"-L", "-n"});
    CHECK(list.status == 0);
    CHECK(list.out.find("TCP  10.0.0.1:80 wlc") != std::string::npos);
    CHECK(list.out.find("-> 10.0.1.2:80") != std::string::npos);
    const auto bad = ask(w, K::Ipvsadm, {"--frobnicate"});
    CHECK(bad.status != 0);
    CHECK_FALSE(bad.err.empty());
    // ipvsctl changes the table it is given (here the memory plane's)
    CHECK(ask(w, K::Ipvsadm, {"-e", "-t", "10.0.0.1:80", "-r", "10.0.1.2:80", "-w", "7"}).status == 0);
    CHECK(w.weight("10.0.0.1", 80, "10.0.1.2", 80) == 7);
}
