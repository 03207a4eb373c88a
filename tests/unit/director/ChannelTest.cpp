#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "director/Channel.h"

TEST_CASE("local channels deliver posted, never re-entrant") {
    asio::io_context io;
    director::LocalChannel a(io), b(io);
    director::LocalChannel::connect(a, b);
    std::vector<std::string> got;
    b.onLine([&](const std::string& l) { got.push_back(l); });
    a.send("role VI_1 MASTER");
    CHECK(got.empty());
    io.run();
    CHECK(got == std::vector<std::string>{"role VI_1 MASTER"});
}

TEST_CASE("socket channels carry lines both ways, split or batched") {
    asio::io_context io;
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    auto ch = std::make_shared<director::SocketChannel>(io, sv[0]);
    std::vector<std::string> got;
    ch->onLine([&](const std::string& l) {
        got.push_back(l);
        if (got.size() == 3) ch->close();
    });
    ch->start();
    const std::string raw = "role A MASTER\nrole B BAC";
    REQUIRE(::write(sv[1], raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
    REQUIRE(::write(sv[1], "KUP\nx\n", 6) == 6);
    ch->send("hello");
    io.run();
    CHECK(got == std::vector<std::string>{"role A MASTER", "role B BACKUP", "x"});
    char buf[16] = {};
    CHECK(::read(sv[1], buf, sizeof buf) == 6);
    CHECK(std::string(buf) == "hello\n");
    ::close(sv[1]);
}
