#include "engine/mail/account_workers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace arrival::engine {

namespace net = boost::asio;

void run_account_workers(std::size_t count, std::size_t jobs, const std::function<net::awaitable<void>(std::size_t)>& work) {
    if (count == 0) return;
    const std::size_t workers = std::clamp<std::size_t>(jobs, 1, count);
    const std::size_t threads = std::min<std::size_t>(workers, std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (std::size_t t = 0; t < threads; ++t) contexts.push_back(std::make_unique<net::io_context>(1));
    std::mutex mu;   // guards next and first_failure: the workers of both threads touch them
    std::size_t next = 0;
    std::exception_ptr first_failure;
    const auto take = [&]() -> std::optional<std::size_t> {
        std::lock_guard lock(mu);
        if (next >= count) return std::nullopt;
        return next++;
    };
    for (std::size_t w = 0; w < workers; ++w) {
        net::co_spawn(net::make_strand(*contexts[w % threads]), [&]() -> net::awaitable<void> {
            while (const auto i = take()) co_await work(*i);
        }, [&](std::exception_ptr e) {
            std::lock_guard lock(mu);
            if (e && !first_failure) first_failure = e;
        });
    }
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back([&, t] { contexts[t]->run(); });
    contexts.front()->run();
    for (auto& t : pool) t.join();
    if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace arrival::engine
