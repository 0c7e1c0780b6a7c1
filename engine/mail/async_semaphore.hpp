// A counting semaphore for coroutines: acquire(n) suspends the coroutine, never the thread, until n units are
// free. Waiters are served first come, first served (a large request is not overtaken forever by small ones).
// A request larger than the capacity is clipped to it, so it waits for everything else to drain instead of
// waiting forever. The capacity may change while units are taken (set_capacity: the adaptive window of
// engine/mail/adaptive_concurrency.hpp): a smaller one takes effect as units come back, nobody is interrupted.
//
// Each waiter sleeps on a steady_timer of its own that never expires (the timer-as-condition-variable of
// protocol/imap/connection's writer); release() grants it the units under the lock and posts the timer's cancel to
// the waiter's executor, so the wake-up runs where the waiter lives. Waiters must run on a strand or a
// single-threaded executor (the cancel is posted after the wait began, on the same executor). Thread-safe:
// the coroutines of different strands, on different threads, share one semaphore.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdint>
#include <list>
#include <mutex>

namespace arrival::engine {

class async_semaphore {
public:
    explicit async_semaphore(std::uint64_t capacity) : capacity_(capacity), free_(static_cast<std::int64_t>(capacity)) {}
    async_semaphore(const async_semaphore&) = delete;
    async_semaphore& operator=(const async_semaphore&) = delete;

    // Takes `n` (clipped to the capacity) once it is free; returns what was taken, for release().
    boost::asio::awaitable<std::uint64_t> acquire(std::uint64_t n) {
        const auto ex = co_await boost::asio::this_coro::executor;   // named: g++ 12 destroys temporaries in co_await expressions twice
        boost::asio::steady_timer wake(ex, boost::asio::steady_timer::time_point::max());
        waiter w{0, &wake};
        {
            std::lock_guard lock(mu_);
            n = std::min(n, capacity_);
            w.n = n;
            if (queue_.empty() && free_ >= static_cast<std::int64_t>(n)) {
                free_ -= static_cast<std::int64_t>(n);
                co_return n;
            }
            queue_.push_back(&w);
        }
        // Leaves the queue if this coroutine is destroyed while waiting (its io_context torn down).
        struct leave_queue {
            async_semaphore& s;
            waiter& w;
            ~leave_queue() {
                std::lock_guard lock(s.mu_);
                if (!w.granted) s.queue_.remove(&w);
            }
        } on_exit{*this, w};
        while (true) {
            boost::system::error_code ec;
            co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            std::lock_guard lock(mu_);
            if (w.granted) break;
        }
        co_return n;
    }

    // Takes `n` only if it is free now and nobody waits; false otherwise.
    [[nodiscard]] bool try_acquire(std::uint64_t n) {
        std::lock_guard lock(mu_);
        if (!queue_.empty() || free_ < static_cast<std::int64_t>(n)) return false;
        free_ -= static_cast<std::int64_t>(n);
        return true;
    }

    void release(std::uint64_t n) {
        std::lock_guard lock(mu_);
        free_ += static_cast<std::int64_t>(n);
        grant_waiters();
    }

    // Units taken stay taken: after a shrink below what is in use, nothing more is granted until enough
    // came back. A growth grants waiters at once.
    void set_capacity(std::uint64_t capacity) {
        std::lock_guard lock(mu_);
        free_ += static_cast<std::int64_t>(capacity) - static_cast<std::int64_t>(capacity_);
        capacity_ = capacity;
        grant_waiters();
    }

    [[nodiscard]] std::uint64_t capacity() const {
        std::lock_guard lock(mu_);
        return capacity_;
    }
    // Units taken now (may exceed the capacity right after a shrink).
    [[nodiscard]] std::uint64_t in_use() const {
        std::lock_guard lock(mu_);
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(capacity_) - free_);
    }

private:
    void grant_waiters() {   // mu_ held
        while (!queue_.empty() && free_ >= static_cast<std::int64_t>(queue_.front()->n)) {
            waiter* w = queue_.front();
            queue_.pop_front();
            free_ -= static_cast<std::int64_t>(w->n);
            w->granted = true;
            boost::asio::steady_timer* t = w->wake;
            boost::asio::post(t->get_executor(), [t] { t->cancel(); });
        }
    }

    struct waiter {
        std::uint64_t n;
        boost::asio::steady_timer* wake;
        bool granted = false;
    };
    std::uint64_t capacity_;
    std::int64_t free_;   // negative after a shrink below the units in use
    mutable std::mutex mu_;
    std::list<waiter*> queue_;
};

}  // namespace arrival::engine
