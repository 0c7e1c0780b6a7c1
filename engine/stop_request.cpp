#include "engine/stop_request.hpp"

#include <atomic>
#include <csignal>

namespace arrival::engine {
namespace {

// Lock-free atomics only: they are written from a signal handler.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
    if (stop_flag.exchange(true)) {
        // Asked twice: the admin wants out now.
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return;
    }
}

}  // namespace

void stop_on_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

void request_stop() noexcept { stop_flag.store(true); }
bool stop_requested() noexcept { return stop_flag.load(std::memory_order_relaxed); }

}  // namespace arrival::engine
