#include "healthcheck/UdpProbe.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>

#include "healthcheck/Dns.h"
#include "healthcheck/SocketErrors.h"

namespace healthcheck {

DatagramExchange::DatagramExchange(asio::io_context& io, UdpTarget target, std::string request, std::size_t bufferSize,
                                   OnReply onReply, OnTimeout onTimeout)
    : socket_(io), timer_(io), target_(std::move(target)), request_(std::move(request)),
      onReply_(std::move(onReply)), onTimeout_(std::move(onTimeout)), buffer_(new char[bufferSize]),
      bufferSize_(bufferSize) {}

void DatagramExchange::start(Done done) {
    done_ = std::move(done);
    start_ = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    socket_.open(target_.endpoint.protocol(), ec);
    if (!ec) applySource(socket_, target_.source, target_.endpoint, ec);
    if (!ec) socket_.connect(target_.endpoint, ec);
    if (!ec) socket_.send(asio::buffer(request_), 0, ec);
    auto self = shared_from_this();
    if (ec) {
        asio::post(socket_.get_executor(), [self, ec] { self->finish(fromSocketError(ec)); });
        return;
    }
    timer_.expires_after(target_.timeout);
    timer_.async_wait([self](const boost::system::error_code& tec) {
        if (tec || self->finished_) return;
        self->finish(self->onTimeout_());
    });
    receive();
}

void DatagramExchange::receive() {
    auto self = shared_from_this();
    socket_.async_receive(asio::buffer(buffer_.get(), bufferSize_), [self](const boost::system::error_code& ec, std::size_t n) {
        if (self->finished_) return;
        if (ec) return self->finish(fromSocketError(ec));  // ICMP unreachable: refused
        if (auto r = self->onReply_(std::string_view(self->buffer_.get(), n))) return self->finish(std::move(*r));
        self->receive();  // not an answer to us: wait on until the deadline
    });
}

void DatagramExchange::finish(ProbeResult r) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
    auto d = std::move(done_);  // no cycle through the caller
    if (d) d(std::move(r));
}

void DatagramExchange::cancel() {
    finished_ = true;
    done_ = nullptr;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
}

bool udpReplyMatches(const UdpExpect& e, std::string_view got) {
    if (e.reply.empty()) return true;  // keepalived: lengths and bytes are checked with reply bytes only
    if (got.size() < e.minLength || got.size() > e.maxLength) return false;
    const std::size_t n = std::min(got.size(), e.reply.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto ignore = i < e.mask.size() ? static_cast<unsigned char>(e.mask[i]) : 0;
        if ((static_cast<unsigned char>(got[i]) ^ static_cast<unsigned char>(e.reply[i])) & ~ignore & 0xff)
            return false;
    }
    return true;
}

void UdpProbe::run(Done done) {
    cancel();
    std::string payload = expect_.payload;
    if (payload.empty()) {  // as keepalived: 32 bytes that say who sends them
        static constexpr std::string_view kFill = "directord check - ";
        while (payload.size() < 32) payload.append(kFill.substr(0, std::min(kFill.size(), 32 - payload.size())));
    }
    const UdpExpect expect = expect_;
    attempt_ = std::make_shared<DatagramExchange>(
        io_, target_, std::move(payload), expect_.maxLength + 1,  // one more: "longer than the maximum" is seen
        [expect](std::string_view reply) -> std::optional<ProbeResult> {
            if (!expect.requireReply || udpReplyMatches(expect, reply)) return ProbeResult::success();
            return ProbeResult::fail(Failure::ReplyMismatch, static_cast<int>(reply.size()));
        },
        [require = expect_.requireReply] {
            // no answer and no ICMP error within the timeout: up, unless a reply is required
            return require ? ProbeResult::fail(Failure::Timeout) : ProbeResult::success();
        });
    attempt_->start(std::move(done));
}

void UdpProbe::cancel() {
    if (attempt_) attempt_->cancel();
    attempt_.reset();
}

void DnsProbe::run(Done done) {
    cancel();
    std::uint16_t id = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) != 1) id ^= 0x5a5a;
    auto query = dns::buildQuery(id, name_, type_);
    if (!query) {  // the config's validation refuses such names; never sent
        asio::post(io_, [done = std::move(done)] { done(ProbeResult::fail(Failure::Error, EINVAL)); });
        return;
    }
    const std::string sent = *query;
    attempt_ = std::make_shared<DatagramExchange>(
        io_, target_, std::move(*query), 4096,  // header and question are all that is read
        [sent](std::string_view reply) -> std::optional<ProbeResult> {
            const auto r = dns::readReply(reply, sent);
            if (r.verdict == dns::Verdict::NotOurs) return std::nullopt;
            if (r.verdict == dns::Verdict::Rcode) return ProbeResult::fail(Failure::DnsRcode, r.rcode);
            return ProbeResult::success();
        },
        [] { return ProbeResult::fail(Failure::Timeout); });
    attempt_->start(std::move(done));
}

void DnsProbe::cancel() {
    if (attempt_) attempt_->cancel();
    attempt_.reset();
}

}  // namespace healthcheck
