#include "director/RemotePlane.h"

namespace director {

void RemotePlane::load(const kmod::PlaneTable& table) { channel_.send(protocol::TableMsg{table}); }

void RemotePlane::zero(const std::optional<kmod::ServiceKey>& only) { channel_.send(protocol::PlaneZeroMsg{only}); }

void RemotePlane::refresh(std::function<void()> done) {
    const std::uint64_t id = nextId_++;
    Pending& p = pending_[id];
    p.done = std::move(done);
    p.timeout = std::make_unique<asio::steady_timer>(io_, std::chrono::seconds(1));
    p.timeout->async_wait([this, id](const boost::system::error_code& ec) {
        if (!ec) finish(id);  // no answer: the forwarding worker is restarting; answer with what we have
    });
    channel_.send(protocol::PlaneQueryMsg{id, true});
}

void RemotePlane::onReport(protocol::PlaneReportMsg&& report) {
    const std::uint64_t id = report.id;
    last_ = std::move(report);
    finish(id);
}

// Answers every request up to `upTo` (an answer to a later query is at least as fresh).
void RemotePlane::finish(std::uint64_t upTo) {
    while (!pending_.empty() && pending_.begin()->first <= upTo) {
        auto node = pending_.extract(pending_.begin());
        node.mapped().timeout->cancel();
        if (node.mapped().done) node.mapped().done();
    }
}

}  // namespace director
