// for_each_concurrently(n, f): runs f(0) ... f(n-1) as n coroutines on the calling coroutine's executor and
// resumes once every one has finished; the first exception any of them threw is then rethrown. Boost 1.74
// has no awaitable operators (&&), and the commands of concurrent coroutines share a connection's pipeline,
// so this is how several IMAP exchanges take one round trip. The caller must run on a strand or a
// single-threaded executor (the count is not atomic).
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <exception>
#include <memory>

namespace arrival::engine {

template <class F>
boost::asio::awaitable<void> for_each_concurrently(std::size_t n, F f) {
    namespace net = boost::asio;
    if (n == 0) co_return;
    const auto ex = co_await net::this_coro::executor;
    struct joined {
        joined(std::size_t n, const net::any_io_executor& ex) : left(n), done(ex, net::steady_timer::time_point::max()) {}
        std::size_t left;
        std::exception_ptr first;
        net::steady_timer done;   // a condition variable: never expires, cancelled when the last one ends
    };
    // Constructed in place: g++ 12 destroys a braced temporary in a coroutine twice, and a moved-from timer
    // still holds a copy of the executor.
    auto j = std::make_shared<joined>(n, ex);
    for (std::size_t k = 0; k < n; ++k) {
        net::co_spawn(ex, [&f, k]() { return f(k); }, [j](std::exception_ptr e) {
            if (e && !j->first) j->first = e;
            if (--j->left == 0) j->done.cancel();
        });
    }
    while (j->left) {
        boost::system::error_code ec;
        co_await j->done.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    if (j->first) std::rethrow_exception(j->first);
}

}  // namespace arrival::engine
