// A cap on message bytes held in memory by all pipelines of a run together. A batch acquires its in-memory
// size before its bodies are fetched and releases it once the destination acknowledged it, so RSS stays
// bounded however many accounts run and however large the mailboxes are. Bodies above the spill threshold
// live in temporary files and are not counted. A request larger than the whole budget is clipped to it,
// so it waits for everything else to drain instead of waiting forever.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace arrival::engine {

class byte_budget {
public:
    explicit byte_budget(std::uint64_t capacity) : capacity_(capacity), free_(capacity) {}

    // Blocks until `n` (clipped to the capacity) is available; returns what was taken, for release().
    std::uint64_t acquire(std::uint64_t n) {
        if (n > capacity_) n = capacity_;
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return free_ >= n; });
        free_ -= n;
        return n;
    }
    void release(std::uint64_t n) {
        {
            std::lock_guard lock(mu_);
            free_ += n;
        }
        cv_.notify_all();
    }
    [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

private:
    std::uint64_t capacity_;
    std::uint64_t free_;
    std::mutex mu_;
    std::condition_variable cv_;
};

}  // namespace arrival::engine
