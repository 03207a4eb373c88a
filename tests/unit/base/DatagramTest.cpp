// base::receiveDatagram on real loopback sockets: the sender, the destination and interface
// (IP_PKTINFO), the TTL (IP_RECVTTL), a datagram longer than the buffer, and none waiting.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/Datagram.h"

namespace {

struct Udp {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ~Udp() { ::close(fd); }
    sockaddr_in bind(const char* addr) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, addr, &a.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        return a;
    }
};

}  // namespace

TEST_CASE("datagram: source, destination, interface and TTL from one recvmsg") {
    Udp rx, tx;
    const sockaddr_in to = rx.bind("127.0.0.1");
    const int on = 1;
    REQUIRE(::setsockopt(rx.fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0);
    REQUIRE(::setsockopt(rx.fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on) == 0);
    tx.bind("127.0.0.2");
    const int ttl = 77;
    REQUIRE(::setsockopt(tx.fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == 0);
    std::vector<std::uint8_t> buf(8);
    errno = 0;
    CHECK_FALSE(base::receiveDatagram(rx.fd, buf));  // nothing waits: no block, nullopt
    CHECK((errno == EAGAIN || errno == EWOULDBLOCK));

    const char msg[] = "hello";
    REQUIRE(::sendto(tx.fd, msg, 5, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 5);
    auto d = base::receiveDatagram(rx.fd, buf);
    REQUIRE(d);
    CHECK(d->length == 5);
    CHECK_FALSE(d->truncated);
    CHECK(std::memcmp(buf.data(), "hello", 5) == 0);
    CHECK(d->source == base::IpAddress::parse("127.0.0.2"));
    CHECK(d->destination == base::IpAddress::parse("127.0.0.1"));
    CHECK(d->ifindex == 1);  // lo
    CHECK(d->ttl == 77);

    // longer than the buffer: cut, and with MSG_TRUNC its whole length
    const char longer[] = "0123456789abcdef";
    REQUIRE(::sendto(tx.fd, longer, 16, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 16);
    d = base::receiveDatagram(rx.fd, buf, MSG_TRUNC);
    REQUIRE(d);
    CHECK(d->truncated);
    CHECK(d->length == 16);
    CHECK(std::memcmp(buf.data(), "01234567", 8) == 0);
}
