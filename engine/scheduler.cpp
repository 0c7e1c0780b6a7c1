#include "engine/scheduler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "engine/async_semaphore.hpp"

namespace arrival::engine {

namespace net = boost::asio;

run_outcome run_accounts(const std::vector<account_pair>& accounts, const job_options& job, const scheduler_options& options) {
    const auto t0 = std::chrono::steady_clock::now();
    run_outcome out;
    out.report.started = iso8601_utc_now();
    out.report.dry_run = job.dry_run;
    out.report.accounts.resize(accounts.size());
    out.fatal_kinds.resize(accounts.size());

    const std::size_t jobs = std::max<std::size_t>(1, std::min(options.jobs, accounts.size()));
    const std::size_t per_account = std::max<std::size_t>(1, job.connections_per_account);
    const auto cap = [&](std::size_t c) { return static_cast<std::uint64_t>(c ? c : jobs * per_account); };
    async_semaphore source_slots(cap(options.max_source_connections));
    async_semaphore dest_slots(cap(options.max_dest_connections));
    job_options o = job;
    o.source_connections = &source_slots;
    o.dest_connections = &dest_slots;

    // The work per byte is a memcpy and a parse, and the CPU stage runs on oneTBB: two io threads suffice.
    // One io_context per thread, jobs dealt round robin: protocol/connection.cpp (at 1bfedd7) loses track of
    // its tags when its strand's io_context is run by two threads ("tagged reply for a tag we never sent").
    const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (unsigned t = 0; t < threads; ++t) contexts.push_back(std::make_unique<net::io_context>(1));
    std::size_t next = 0;   // the next account; touched only under `pick`
    std::mutex pick;
    auto take = [&]() -> std::optional<std::size_t> {
        std::lock_guard lock(pick);
        if (next >= accounts.size()) return std::nullopt;
        return next++;
    };
    for (std::size_t w = 0; w < jobs; ++w) {
        net::co_spawn(net::make_strand(*contexts[w % contexts.size()]), [&]() -> net::awaitable<void> {
            while (const auto i = take()) {
                auto r = co_await migrate_account(accounts[*i], o);
                out.report.accounts[*i] = std::move(r.report);   // each worker writes only its own slot
                out.fatal_kinds[*i] = r.fatal_kind;
            }
        }, [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);   // migrate_account never throws; anything else is a bug
        });
    }
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < contexts.size(); ++t) pool.emplace_back([&, t] { contexts[t]->run(); });
    contexts.front()->run();
    for (auto& t : pool) t.join();
    out.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace arrival::engine
