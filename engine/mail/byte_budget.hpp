// A cap on message bytes held in memory by all folder copies of a run together. A batch acquires its in-memory
// size before its bodies are fetched and releases it once the destination acknowledged it, so RSS stays
// bounded however many accounts and folders run and however large the mailboxes are. Bodies above the spill
// threshold live in temporary files and are not counted. Waiting for bytes suspends the fetching coroutine,
// never a thread (engine/mail/async_semaphore.hpp); a batch larger than the whole budget waits for everything
// else to drain.
#pragma once
#include <cstdint>
#include <utility>

#include "engine/mail/async_semaphore.hpp"

namespace arrival::engine {

using byte_budget = async_semaphore;

// Bytes taken from a byte_budget (null: none), given back when the hold is destroyed or replaced.
class budget_hold {
public:
    budget_hold() = default;
    budget_hold(byte_budget* budget, std::uint64_t taken) noexcept : budget_(budget), taken_(taken) {}
    budget_hold(const budget_hold&) = delete;
    budget_hold& operator=(const budget_hold&) = delete;
    budget_hold& operator=(budget_hold&& other) noexcept {
        if (this != &other) {
            give_back();
            budget_ = std::exchange(other.budget_, nullptr);
            taken_ = std::exchange(other.taken_, 0);
        }
        return *this;
    }
    ~budget_hold() { give_back(); }

private:
    void give_back() noexcept {
        if (budget_ && taken_) budget_->release(taken_);
    }
    byte_budget* budget_ = nullptr;
    std::uint64_t taken_ = 0;
};

}  // namespace arrival::engine
