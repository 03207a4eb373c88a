// The lvs worker's test world, shared by its unit tests: a worker on the memory plane with a manual
// clock, probes whose results the test sets per target, recorded commands, and a channel end
// standing in for the supervisor.
#pragma once
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "base/Clock.h"
#include "base/Log.h"
#include "conf/Loader.h"
#include "director/Channel.h"
#include "director/lvs/LvsWorker.h"
#include "director/lvs/ProbeFactory.h"
#include "healthcheck/ProbeResult.h"
#include "kmod/memory/InMemoryIpvsTable.h"
#include "../RecordingCommandRunner.h"

namespace fixture {

using namespace std::chrono_literals;
using healthcheck::Failure;
using healthcheck::ProbeResult;

// Probes whose result the test sets per target ("10.0.1.1:80"); default healthy.
class FakeProbes : public director::lvs::ProbeFactory {
public:
    explicit FakeProbes(base::TimerFactory& clock) : clock_(clock) {}
    std::map<std::string, ProbeResult> results;
    int made = 0;

    class Probe : public healthcheck::Probe {
    public:
        Probe(FakeProbes& f, std::string target) : f_(f), target_(std::move(target)), timer_(f.clock_.makeTimer()) {}
        void run(Done done) override {
            auto it = f_.results.find(target_);
            ProbeResult r = it == f_.results.end() ? ProbeResult::success() : it->second;
            timer_->schedule(5ms, [done = std::move(done), r] { done(r); });
        }
        void cancel() override { timer_->cancel(); }

    private:
        FakeProbes& f_;
        std::string target_;
        std::unique_ptr<base::Timer> timer_;
    };

    std::unique_ptr<healthcheck::Probe> make(const conf::Config&, const conf::VirtualServer&,
                                             const conf::RealServer& rs, const conf::CheckConfig& c,
                                             std::string&) override {
        ++made;
        return std::make_unique<Probe>(
            *this, c.connectIp.value_or(rs.address).str() + ":" + std::to_string(c.connectPort.value_or(rs.port)));
    }

private:
    base::TimerFactory& clock_;
};

struct World {
    asio::io_context io;
    base::ManualClock* clock;
    FakeProbes* probes;
    director::RecordingCommandRunner* commands;
    kmod::memory::InMemoryIpvsTable* table;
    director::LocalChannel vrrpEnd{io}, lvsEnd{io};
    std::unique_ptr<director::lvs::LvsWorker> worker;

    explicit World(const std::string& text) {
        base::log::setLevel(base::log::Level::Error);
        auto r = conf::loadString(text, "t.conf");
        for (const auto& d : r.diagnostics) INFO(d.str());
        REQUIRE(r.ok());
        director::LocalChannel::connect(vrrpEnd, lvsEnd);
        auto c = std::make_unique<base::ManualClock>();
        clock = c.get();
        auto p = std::make_unique<FakeProbes>(*clock);
        probes = p.get();
        auto cmd = std::make_unique<director::RecordingCommandRunner>();
        commands = cmd.get();
        auto t = std::make_unique<kmod::memory::InMemoryIpvsTable>();
        table = t.get();
        worker = std::make_unique<director::lvs::LvsWorker>(
            io, *r.config, std::move(t), lvsEnd, director::lvs::LvsWorker::Deps{std::move(c), std::move(p), std::move(cmd)});
    }
    ~World() { base::log::setLevel(base::log::Level::Info); }
    void advance(base::Duration d) {
        io.poll();  // deliver what was posted (channel lines) before time moves
        io.restart();
        clock->advance(d);
        io.poll();
        io.restart();
    }
    // weight of dest `rs` in service `vs`, -1 when absent
    long weight(const char* vs, std::uint16_t port, const char* rs, std::uint16_t rport) {
        const auto& svcs = table->state().services;
        auto it = svcs.find(kmod::ServiceKey::inet(*base::IpAddress::parse(vs), kmod::kTcp, port));
        if (it == svcs.end()) return -2;
        auto d = it->second.dests.find({*base::IpAddress::parse(rs), rport});
        return d == it->second.dests.end() ? -1 : static_cast<long>(d->second.weight);
    }
};

}  // namespace fixture
