#include "engine/mail/scheduler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "engine/mail/adaptive_concurrency.hpp"
#include "engine/mail/async_semaphore.hpp"
#include "engine/mail/report_spool.hpp"
#include "engine/stop_request.hpp"

namespace arrival::engine {

namespace net = boost::asio;

run_outcome run_accounts(const std::vector<account_pair>& accounts, const job_options& job, const scheduler_options& options) {
    const auto t0 = std::chrono::steady_clock::now();
    run_outcome out;
    out.report.started = iso8601_utc_now();
    out.report.dry_run = job.dry_run;
    out.report.spool = options.spool;
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
    // The adaptive window of connection pairs, within every cap (engine/mail/adaptive_concurrency.hpp).
    aimd_settings window_settings;
    window_settings.cap = static_cast<std::size_t>(std::min({cap(0), cap(options.max_source_connections), cap(options.max_dest_connections)}));
    window_settings.initial = options.fixed_concurrency ? window_settings.cap : std::min<std::size_t>(window_settings.cap, 8);
    adaptive_concurrency window(window_settings);
    if (!options.fixed_concurrency && !job.dry_run) o.concurrency = &window;

    // The work per byte is a memcpy and a parse, and the CPU stage runs on oneTBB: two io threads suffice.
    // One io_context per thread, jobs dealt round robin: protocol/imap/connection.cpp (at 1bfedd7) loses track of
    // its tags when its strand's io_context is run by two threads ("tagged reply for a tag we never sent").
    const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (unsigned t = 0; t < threads; ++t) contexts.push_back(std::make_unique<net::io_context>(1));
    std::size_t next = 0;   // the next account; touched only under `pick`
    std::mutex pick;
    auto take = [&]() -> std::optional<std::size_t> {
        std::lock_guard lock(pick);
        if (next >= accounts.size() || stop_requested()) return std::nullopt;
        return next++;
    };
    // The window's interval: a timer on the first io thread, stopped by the last worker to finish.
    const auto tick_strand = net::make_strand(*contexts.front());
    net::steady_timer tick_timer(tick_strand);
    std::atomic<std::size_t> workers_left{jobs};
    auto show_window = [&] {
        if (o.progress_sink) o.progress_sink->set_window(window.window(), window.cap());
        if (auto* m = o.pipeline.metrics) m->concurrency_window(window.window());
    };
    if (o.concurrency) {
        show_window();
        net::co_spawn(tick_strand, [&]() -> net::awaitable<void> {
            while (workers_left.load() > 0) {
                tick_timer.expires_after(std::chrono::seconds(1));
                boost::system::error_code ec;
                co_await tick_timer.async_wait(net::redirect_error(net::use_awaitable, ec));
                if (workers_left.load() == 0) break;
                window.tick();
                show_window();
            }
        }, net::detached);
    }
    for (std::size_t w = 0; w < jobs; ++w) {
        net::co_spawn(net::make_strand(*contexts[w % contexts.size()]), [&]() -> net::awaitable<void> {
            while (const auto i = take()) {
                auto r = co_await migrate_account(accounts[*i], o);
                out.report.accounts[*i] = std::move(r.report);   // each worker writes only its own slot
                if (options.spool) options.spool->fold(out.report.accounts[*i]);
                out.fatal_kinds[*i] = r.fatal_kind;
            }
            // The check and the wait of the ticker run on its strand: the cancel posted there cannot fall
            // between them.
            if (--workers_left == 0) net::post(tick_strand, [&] { tick_timer.cancel(); });
        }, [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);   // migrate_account never throws; anything else is a bug
        });
    }
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < contexts.size(); ++t) pool.emplace_back([&, t] { contexts[t]->run(); });
    contexts.front()->run();
    for (auto& t : pool) t.join();
    // Accounts a stop request kept from starting say so, so the report and the exit status do not call them done.
    for (std::size_t i = next; i < accounts.size(); ++i) {
        auto& r = out.report.accounts[i];
        r.source_user = accounts[i].source_user;
        r.dest_user = accounts[i].dest_user;
        r.scope = accounts[i].scope;
        r.ok = false;
        r.error = interrupted_reason;
    }
    if (o.concurrency) out.report.concurrency = window.report();
    out.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace arrival::engine
