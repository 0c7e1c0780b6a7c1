#include "engine/mail/io_runtime.hpp"

#include <algorithm>

#include "protocol/tls_policy.hpp"

namespace arrival::engine {

namespace {
std::mutex live_mu;
std::weak_ptr<io_runtime> live;
}  // namespace

std::shared_ptr<io_runtime> io_runtime::acquire() {
    std::lock_guard lock(live_mu);
    if (auto r = live.lock()) return r;
    std::shared_ptr<io_runtime> r(new io_runtime());
    live = r;
    return r;
}

io_runtime::io_runtime() {
    const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
    for (unsigned i = 0; i < n; ++i) {
        workers_.push_back(std::make_unique<worker>());
        auto* w = workers_.back().get();
        w->thread = std::thread([w] { w->io.run(); });
    }
}

io_runtime::~io_runtime() {
    // Every session is gone, so every connection was closed; what may remain are their background coroutines
    // finishing. stop() abandons them (their frames are destroyed with the context), so a stuck timer cannot
    // hang us.
    for (auto& w : workers_) {
        w->guard.reset();
        w->io.stop();
        w->thread.join();
    }
}

boost::asio::io_context& io_runtime::context() noexcept { return workers_[next_++ % workers_.size()]->io; }

std::shared_ptr<boost::asio::ssl::context> shared_tls_context(const std::string& ca_file, bool insecure) {
    static std::mutex mu;
    static std::map<std::pair<std::string, bool>, std::shared_ptr<boost::asio::ssl::context>> contexts;
    std::lock_guard lock(mu);
    auto& slot = contexts[{ca_file, insecure}];
    if (!slot) slot = tls::make_client_context({ca_file, insecure});
    return slot;
}

}  // namespace arrival::engine
