#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "director/Channel.h"

using director::protocol::RoleMsg;

TEST_CASE("local channels deliver posted, never re-entrant") {
    asio::io_context io;
    director::LocalChannel a(io), b(io);
    director::LocalChannel::connect(a, b);
    std::vector<RoleMsg> got;
    b.onMessage([&](director::protocol::Message&& m) { got.push_back(std::get<RoleMsg>(m)); });
    a.send(RoleMsg{"VI_1", vrrp::State::Master});
    CHECK(got.empty());
    io.run();
    CHECK(got == std::vector<RoleMsg>{{"VI_1", vrrp::State::Master}});
}

TEST_CASE("socket channels carry messages both ways, split or batched; undecodable frames are counted") {
    asio::io_context io;
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    auto ch = std::make_shared<director::SocketChannel>(io, sv[0]);
    std::vector<RoleMsg> got;
    ch->onMessage([&](director::protocol::Message&& m) {
        got.push_back(std::get<RoleMsg>(m));
        if (got.size() == 3) ch->close();
    });
    ch->start();
    const std::string raw = director::protocol::encode(RoleMsg{"A", vrrp::State::Master}) +
                            director::protocol::frameBytes(200, "junk") +
                            director::protocol::encode(RoleMsg{"B", vrrp::State::Backup}) +
                            director::protocol::encode(RoleMsg{"C", vrrp::State::Fault});
    const size_t cut = raw.size() / 2;
    REQUIRE(::write(sv[1], raw.data(), cut) == static_cast<ssize_t>(cut));
    REQUIRE(::write(sv[1], raw.data() + cut, raw.size() - cut) == static_cast<ssize_t>(raw.size() - cut));
    ch->send(RoleMsg{"hello", vrrp::State::Init});
    io.run();
    CHECK(got ==
          std::vector<RoleMsg>{{"A", vrrp::State::Master}, {"B", vrrp::State::Backup}, {"C", vrrp::State::Fault}});
    CHECK(ch->undecodable() == 1);
    char buf[256];
    const ssize_t n = ::read(sv[1], buf, sizeof buf);
    director::protocol::FrameReader in(1024);
    in.append(buf, static_cast<size_t>(n));
    auto f = in.next();
    REQUIRE(f);
    CHECK(std::get<RoleMsg>(*director::protocol::decode(*f)) == RoleMsg{"hello", vrrp::State::Init});
    ::close(sv[1]);
}
