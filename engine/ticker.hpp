// A thread that calls one function now and then until it is stopped: the redraw loop of the progress
// displays (engine/progress, engine/run_progress). tick() runs on the ticker's thread, with no lock of the
// ticker's held, and returns when it wants to run next; stop() wakes the thread at once and joins it.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace arrival::engine {

class ticker {
public:
    using clock = std::chrono::steady_clock;

    ticker() = default;
    ~ticker() { stop(); }
    ticker(const ticker&) = delete;
    ticker& operator=(const ticker&) = delete;

    // Calls tick() first at `first`, then at each time point it returns. Once only.
    void start(std::function<clock::time_point()> tick, clock::time_point first) {
        thread_ = std::thread([this, tick = std::move(tick), first] {
            std::unique_lock lock(mu_);
            auto wake = first;
            while (!stopping_) {
                cv_.wait_until(lock, wake, [this] { return stopping_; });
                if (stopping_) break;
                lock.unlock();
                wake = tick();
                lock.lock();
            }
        });
    }

    // True when this call stopped a running ticker; false when it never ran or was stopped before.
    bool stop() {
        {
            std::lock_guard lock(mu_);
            const bool running = !stopping_ && thread_.joinable();
            stopping_ = true;
            if (!running) return false;
        }
        cv_.notify_all();
        thread_.join();
        return true;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace arrival::engine
