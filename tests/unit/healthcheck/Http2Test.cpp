// The HTTP/2 client (nghttp2) as a check drives it, and gRPC's health messages: the request frame
// it sends and the response it decodes. End to end against real servers: tests/loopback/grpc_check_test.py.
#include <catch2/catch.hpp>
#include <string>

#include "healthcheck/Http2Client.h"
#include "healthcheck/HttpProbe.h"

using healthcheck::Failure;
using healthcheck::Http2Client;
using namespace std::string_literals;

TEST_CASE("grpc: the HealthCheckRequest frame for a service name") {
    CHECK(healthcheck::grpcHealthRequest("") == "\0\0\0\0\0"s);  // the server as a whole: an empty message
    CHECK(healthcheck::grpcHealthRequest("db") == "\0\0\0\0\x04\x0a\x02"s + "db");
    const std::string longName(200, 'x');  // a length past 127 takes two varint bytes
    CHECK(healthcheck::grpcHealthRequest(longName) == "\0\0\0\0\xcb\x0a\xc8\x01"s + longName);
}

TEST_CASE("grpc: the HealthCheckResponse's status, and what is not one") {
    using healthcheck::grpcServingStatus;
    CHECK(grpcServingStatus("\0\0\0\0\x02\x08\x01"s) == 1);  // SERVING
    CHECK(grpcServingStatus("\0\0\0\0\x02\x08\x02"s) == 2);  // NOT_SERVING
    CHECK(grpcServingStatus("\0\0\0\0\0"s) == 0);            // proto3: absent is UNKNOWN
    CHECK(grpcServingStatus("\0\0\0\0\x06\x12\x02hi\x08\x01"s) == 1);  // another field skipped
    CHECK_FALSE(grpcServingStatus("\x01\0\0\0\x02\x08\x01"s));  // compressed: not asked for
    CHECK_FALSE(grpcServingStatus("\0\0\0\0\x05\x08\x01"s));    // the length lies
    CHECK_FALSE(grpcServingStatus("\0\0\0\0\x02\x08\x80"s));    // a varint cut short
    CHECK_FALSE(grpcServingStatus("\0\0\0"s));
}

TEST_CASE("http2: the client opens with the preface, and an HTTP/1 answer is malformed at once") {
    healthcheck::Http2Request r;
    r.authority = "example:80";
    Http2Client c(r, 1024);
    const std::string out = c.output();
    CHECK(out.rfind("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0) == 0);
    CHECK(out.size() > 24 + 9);  // the preface, SETTINGS and the request's HEADERS
    CHECK(c.feed("HTTP/1.1 400 Bad Request\r\n\r\n") == Http2Client::State::Error);
    CHECK(c.error() == Failure::HttpMalformed);
}

TEST_CASE("http2: garbage and an early close are failures, never a crash") {
    healthcheck::Http2Request r;
    r.authority = "example:80";
    Http2Client garbage(r, 1024);
    (void)garbage.output();
    // a GOAWAY too short to be one, as the server's first frame: a connection error
    garbage.feed("\x00\x00\x04\x07\x00\x00\x00\x00\x00zzzz"s);
    CHECK_FALSE(garbage.output().empty());  // nghttp2's GOAWAY back
    CHECK(garbage.state() == Http2Client::State::Error);
    CHECK(garbage.error() == Failure::HttpMalformed);
    Http2Client closed(r, 1024);
    (void)closed.output();
    CHECK(closed.feed("\x00\x00\x00\x04\x00\x00\x00\x00\x00"s) == Http2Client::State::NeedMore);  // SETTINGS
    CHECK(closed.finishEof() == Http2Client::State::Error);
    CHECK(closed.error() == Failure::Closed);
}
