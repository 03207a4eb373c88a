#include "director/CommandRunner.h"

#include <unistd.h>

#include "base/Log.h"
#include "healthcheck/ScriptProbe.h"

namespace director {

ProcessCommandRunner::~ProcessCommandRunner() = default;

void ProcessCommandRunner::resolve(const std::set<std::string>& users) {
    users_.clear();
    if (::geteuid() != 0) return;  // not root: commands run as ourselves
    for (const auto& u : users) {
        std::string why;
        auto c = healthcheck::lookupUser(u, why);
        if (!c) base::log::error("script: user '", u, "': ", why, "; commands for it will not run");
        users_.emplace(u, std::move(c));
    }
}

const healthcheck::Credentials* ProcessCommandRunner::credentials(const std::string& user, std::string& why) {
    auto it = users_.find(user);
    if (it == users_.end()) {  // not named at load (a default): looked up once, then remembered
        it = users_.emplace(user, healthcheck::lookupUser(user, why)).first;
    }
    if (!it->second && why.empty()) why = "no user '" + user + "'";
    return it->second ? &*it->second : nullptr;
}

void ProcessCommandRunner::run(const conf::Command& cmd, const std::string& user, const std::string& why,
                               std::function<void()> done) {
    if (cmd.empty()) {
        if (done) asio::post(io_, std::move(done));
        return;
    }
    healthcheck::ScriptSpec spec;
    spec.argv = cmd.argv;
    spec.timeout = std::chrono::seconds(60);
    spec.scriptSecurity = scriptSecurity_;
    if (::geteuid() == 0 && !user.empty()) {
        std::string problem;
        const auto* creds = credentials(user, problem);
        if (!creds) {
            base::log::warning("script: ", why, ": ", cmd.str(), " not run: ", problem);
            if (done) asio::post(io_, std::move(done));
            return;
        }
        spec.user = user;
        spec.credentials = *creds;
    }
    running_.push_back(std::make_unique<healthcheck::ScriptProbe>(io_, spec));
    auto it = std::prev(running_.end());
    (*it)->run([this, it, why, cmd, done = std::move(done)](healthcheck::ProbeResult r) {
        if (!r.ok()) base::log::warning("script: ", why, ": ", cmd.str(), " failed: ", r.describe());
        // Destroy the probe outside its own completion handler.
        asio::post(io_, [this, it, done] {
            running_.erase(it);
            if (done) done();
        });
    });
}

namespace {

struct Wait {
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline;
    int idle = 0;
    std::function<void()> then;
    const CommandRunner* r;
};

void poll(const std::shared_ptr<Wait>& w) {
    w->idle = w->r->running() == 0 ? w->idle + 1 : 0;
    const bool late = std::chrono::steady_clock::now() >= w->deadline;
    if (w->idle >= 2 || late) {
        if (late && w->r->running() > 0)
            base::log::warning("stopping: ", w->r->running(), " script(s) still running after the wait; killing them");
        auto then = std::move(w->then);
        then();
        return;
    }
    w->timer.expires_after(std::chrono::milliseconds(20));
    w->timer.async_wait([w](const boost::system::error_code& ec) {
        if (!ec) poll(w);
    });
}

}  // namespace

void afterCommands(asio::io_context& io, const CommandRunner& r, std::chrono::milliseconds bound,
                   std::function<void()> then) {
    auto w = std::make_shared<Wait>(
        Wait{asio::steady_timer(io), std::chrono::steady_clock::now() + bound, 0, std::move(then), &r});
    if (r.running() > 0)
        base::log::info("stopping: waiting up to ", bound.count() / 1000.0, " s for ", r.running(),
                        " script(s) to finish");
    poll(w);
}

}  // namespace director
