// Relay: moves the bytes of one proxied TCP connection both ways with splice(2) through a pipe per
// direction, so payload never enters user memory. Half-closes are passed on (EOF from one side
// shuts down writing to the other); the relay ends when both directions have ended or on an error,
// closing both sockets. Runs on one forwarding thread's io_context.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/Asio.h"

namespace kmod {

class Relay : public std::enable_shared_from_this<Relay> {
public:
    struct Totals {
        std::uint64_t clientToServer = 0, serverToClient = 0;
        std::uint64_t segmentsIn = 0, segmentsOut = 0;  // on the client connection (TCP_INFO)
        bool error = false;
    };
    using Done = std::function<void(const Totals&)>;

    // Pipes are reused across relays of one thread (a pipe costs two syscalls to make and two to
    // close); only empty pipes go back to the pool.
    class PipePool {
    public:
        ~PipePool();
        struct Pipe {
            int read = -1, write = -1;
            size_t capacity = 65536;
        };
        Pipe take();  // read -1 when out of descriptors
        void give(const Pipe& p);

    private:
        std::vector<Pipe> free_;
    };

    Relay(asio::ip::tcp::socket client, asio::ip::tcp::socket server, PipePool& pipes, Done done);
    ~Relay();
    // False when the pipes cannot be made (out of descriptors): the caller closes both sockets.
    // A connection idle (no byte either way) for `idleTimeout` is reset, as IPVS expires an
    // established entry after the tcp timeout.
    bool start(std::chrono::seconds idleTimeout);
    // When bytes last became ready either way (for the expiry ipvsctl -c shows).
    std::chrono::steady_clock::time_point lastActive() const { return lastActive_; }

private:
    struct Direction {
        asio::ip::tcp::socket* from;
        asio::ip::tcp::socket* to;
        int pipeRead = -1, pipeWrite = -1;
        size_t inPipe = 0;
        size_t capacity = 65536;  // the pipe's size
        bool drained = false;     // the last read found the socket empty
        std::uint64_t moved = 0;
        bool done = false;
    };
    void pump(Direction& d);
    void finishDirection(Direction& d);
    void fail();
    void maybeDone();
    void readSegments();
    void armIdle();
    std::chrono::seconds idleTimeout_{900};
    std::chrono::steady_clock::time_point lastActive_ = std::chrono::steady_clock::now();
    std::uint64_t seenMoved_ = ~std::uint64_t{0};
    std::uint64_t segsIn_ = 0, segsOut_ = 0;

    asio::ip::tcp::socket client_, server_;
    PipePool& pipes_;
    Direction up_{}, down_{};
    Done done_;
    asio::steady_timer idle_;  // after client_: made from its executor
    bool failed_ = false, finished_ = false;
};

}  // namespace kmod
