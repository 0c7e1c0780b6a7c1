// Where the mail engine's CPU work runs: a oneTBB task_arena, entered from coroutines without blocking them.
// run_on_cpu_arena(fn) enqueues fn into the arena and suspends the calling coroutine; when a TBB worker has
// run fn, the coroutine is resumed on its own executor (its strand), with fn's exception if it threw. No TBB
// worker ever waits on a socket or a semaphore, and no io thread ever runs the CPU work.
#pragma once
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>

#include <oneapi/tbb/task_arena.h>

namespace arrival::engine {

// The process's arena (default concurrency: one slot per core).
[[nodiscard]] inline tbb::task_arena& cpu_arena() {
    static tbb::task_arena arena;
    return arena;
}

template <class F>
boost::asio::awaitable<void> run_on_cpu_arena(F fn) {
    namespace net = boost::asio;
    const auto ex = co_await net::this_coro::executor;
    // Named, not a temporary of the co_await expression: g++ 12 destroys those twice, and this one holds a
    // copy of the executor.
    auto enqueue = [&fn, &ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        cpu_arena().enqueue([h, &fn, ex] {
            std::exception_ptr e;
            try {
                fn();
            } catch (...) {
                e = std::current_exception();
            }
            net::post(ex, [h, e]() mutable { (*h)(e); });
        });
    };
    co_await net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr)>(enqueue, net::use_awaitable);
}

}  // namespace arrival::engine
