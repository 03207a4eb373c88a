// Relay: one proxied TCP connection, from the connect to the real server to the last byte. Small
// messages (requests, responses) are read into the thread's scratch buffer and written straight on;
// a direction that fills a whole read is a stream and moves on with splice(2) through a pipe, so
// bulk payload never enters user memory.
// Half-closes are passed on (EOF from one side shuts down writing to the other); the relay ends when
// both directions have ended or on an error, closing both sockets. Its two sockets sit in the
// forwarding thread's RawPoller (added once, edge-triggered, gone with close()); everything runs on
// that thread's io_context.
#pragma once
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/Asio.h"
#include "kmod/userspace/RawPoller.h"

namespace kmod::userspace {

class Relay : public std::enable_shared_from_this<Relay> {  // weak_from_this: its timers
public:
    struct Totals {
        std::uint64_t clientToServer = 0, serverToClient = 0;
        std::uint64_t segmentsIn = 0, segmentsOut = 0;  // on the client connection (TCP_INFO)
        bool connected = false;                         // false: the real server was never reached
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
        // One buffer per thread for the small reads, written out before the next read.
        static constexpr size_t kScratchSize = 16384;
        char* scratch() { return scratch_.data(); }

    private:
        std::vector<Pipe> free_;
        std::vector<char> scratch_ = std::vector<char>(kScratchSize);
    };

    // `client`: the accepted socket, non-blocking (accept4), owned by the relay from here on.
    // `done` runs once, however it ends.
    Relay(asio::io_context& io, RawPoller& poller, PipePool& pipes, int client, Done done);
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // Connects to the real server (a non-blocking socket with TCP_NODELAY; a refusal, a reset or
    // `timeout` ends the relay: the client is reset, done() says not connected). Once connected,
    // `connected` runs and the bytes start moving; a connection idle (no byte either way) for
    // `idleTimeout` is reset, as IPVS expires an established entry after the tcp timeout, and one
    // whose client only trickles (under kProgressBytes a tick, the real server silent) for
    // `progressTimeout` (0: never) is reset too, whatever it trickles: a slowloris client holds its
    // descriptors that long at most. While `crowded()` (the budget past three quarters), a
    // connection idle for the progress timeout is reset as well: under a flood of connections that
    // just sit there, the slots come back for new clients. Ticks are a sixth of the progress
    // timeout. Once one side has closed its way (a FIN passed on), the other way's idle limit is
    // `finTimeout` (IPVS's tcpfin: an entry past FIN expires after it): a peer whose answers no longer
    // reach us (its client moved to the other director) holds the descriptors that long, not the
    // tcp timeout. The relay must stay alive until the loop turn after done() (its owner releases
    // it then: events already fetched may still name it).
    void connect(const sockaddr* target, socklen_t len, std::chrono::milliseconds timeout,
                 std::chrono::seconds idleTimeout, std::chrono::seconds finTimeout,
                 std::chrono::seconds progressTimeout, std::function<bool()> crowded, std::function<void()> connected);
    static constexpr std::uint64_t kProgressBytes = 1024;
    // When bytes last became ready either way (for the expiry ipvsctl -c shows).
    std::chrono::steady_clock::time_point lastActive() const { return lastActive_; }
    // One way closed, the other still open (FIN_WAIT in the connection table), and the idle limit
    // now in force (the tcp timeout; tcpfin once half-closed).
    bool halfClosed() const { return up_.done != down_.done; }
    std::chrono::seconds idleLimit() const { return idleTimeout_; }

private:
    struct Direction {
        int from = -1, to = -1;
        int pipeRead = -1, pipeWrite = -1;
        size_t inPipe = 0;
        size_t capacity = 65536;  // the pipe's size
        bool drained = false;     // the last read found the socket empty
        bool ended = false;       // epoll said the source's FIN or reset came: read to it, no edge follows
        bool streaming = false;   // a read filled the scratch buffer: splice from now on
        std::vector<char> held;   // what the destination did not take of a small read
        size_t heldFrom = 0;
        std::uint64_t moved = 0;
        bool done = false;
    };
    // One per socket: which direction reads from it and which writes to it.
    struct Side : RawPoller::Handler {
        Relay* relay = nullptr;
        bool client = false;
        void onEvents(std::uint32_t events) override;
    };
    void onServer(std::uint32_t events);
    void onClient(std::uint32_t events);
    void readable(Direction& d, std::uint32_t events);
    void writable(Direction& d, std::uint32_t events);
    void connectDone(int err);
    bool startRelaying();
    void pump(Direction& d);
    bool copySmall(Direction& d);
    void finishDirection(Direction& d);
    void fail();
    void maybeDone();
    void readSegments();
    void armIdle();

    RawPoller& poller_;
    PipePool& pipes_;
    int client_ = -1, server_ = -1;
    Side clientSide_, serverSide_;
    Done done_;
    std::function<void()> connected_;
    asio::steady_timer timer_;  // the connect's deadline, then the idle check
    std::chrono::seconds idleTimeout_{900}, finTimeout_{120};
    std::chrono::steady_clock::time_point lastActive_ = std::chrono::steady_clock::now();
    std::chrono::seconds progressTimeout_{0};
    std::function<bool()> crowded_;
    std::chrono::steady_clock::duration tick_{}, idleFor_{}, trickleFor_{};
    std::uint64_t seenUp_ = 0, seenDown_ = 0;  // bytes moved each way at the last tick
    std::uint64_t segsIn_ = 0, segsOut_ = 0;
    Direction up_{}, down_{};
    bool connecting_ = false, isConnected_ = false, failed_ = false, finished_ = false;
};

}  // namespace kmod::userspace
