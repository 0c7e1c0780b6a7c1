#include "engine/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <semaphore>
#include <thread>

namespace arrival::engine {

run_outcome run_accounts(const std::vector<account_pair>& accounts, const job_options& job, const scheduler_options& options) {
    const auto t0 = std::chrono::steady_clock::now();
    run_outcome out;
    out.report.started = iso8601_utc_now();
    out.report.dry_run = job.dry_run;
    out.report.accounts.resize(accounts.size());
    out.fatal_kinds.resize(accounts.size());

    const std::size_t jobs = std::max<std::size_t>(1, std::min(options.jobs, accounts.size()));
    const auto cap = [&](std::size_t c) { return static_cast<std::ptrdiff_t>(c ? c : jobs); };
    std::counting_semaphore<> source_slots(cap(options.max_source_connections));
    std::counting_semaphore<> dest_slots(cap(options.max_dest_connections));

    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        while (true) {
            const std::size_t i = next++;
            if (i >= accounts.size()) return;
            source_slots.acquire();
            dest_slots.acquire();
            auto o = run_account_outcome(accounts[i], job);
            dest_slots.release();
            source_slots.release();
            out.report.accounts[i] = std::move(o.report);   // each worker writes only its own slot
            out.fatal_kinds[i] = o.fatal_kind;
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < jobs; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    out.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace arrival::engine
