// `arrival verify`: compares source and destination per folder (counts and dedupe-key multisets) with the
// same connection and account options as migrate, and lists every difference. Exit status 0 when nothing
// is missing, 1 when mail is missing or an account could not be compared. With --public, the source's
// shared namespace is compared once more, as one entry, as `migrate --public` maps it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/owner_only.hpp"
#include "engine/verify.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/migrate_options.hpp"

namespace arrival::cli {

int run_verify(int argc, char** argv) {
    CLI::App app{"arrival verify: compare source and destination folder by folder and list every difference"};
    app.name("arrival verify");
    migrate_args a;
    add_connection_options(app, a);
    add_public_options(app, a);
    app.add_flag("--flags", a.verify_flags, "compare flags and keywords too (the source's as migrate maps them), per message");
    resolved_run run;
    if (const auto stop = parse_and_resolve(app, argc, argv, a, "arrival verify", run)) return *stop;
    const auto t0 = std::chrono::steady_clock::now();
    const auto& accounts = run.accounts.accounts;
    std::vector<engine::account_verification> results(accounts.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    const std::size_t jobs = std::max<std::size_t>(1, std::min(run.sched.jobs, accounts.size()));
    for (std::size_t t = 0; t < jobs; ++t) {
        threads.emplace_back([&] {
            for (std::size_t i; (i = next++) < accounts.size();) results[i] = engine::verify_account(accounts[i], run.job);
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::uint64_t missing = 0, failed = 0, folders = 0, messages = 0, flags_differ = 0;
    for (const auto& r : results) {
        missing += r.missing();
        flags_differ += r.flags_differ();
        failed += r.ok() ? 0 : 1;
        folders += r.folders.size();
        for (const auto& f : r.folders) messages += f.source_messages;
    }
    std::fputs(engine::describe_differences(results).c_str(), stdout);
    std::fprintf(stdout, "verify: %zu account(s), %llu folder(s), %llu source message(s): %llu missing, %s%llu account(s) not ok (%.1f s)\n",
                 results.size(), static_cast<unsigned long long>(folders), static_cast<unsigned long long>(messages),
                 static_cast<unsigned long long>(missing),
                 a.verify_flags ? fmt::format("{} with other flags, ", flags_differ).c_str() : "",
                 static_cast<unsigned long long>(failed), seconds);
    if (!a.report_file.empty()) {
        auto out = engine::open_owner_only(a.report_file);
        out << engine::to_json(results, seconds).dump(2) << '\n';
        if (!out) {
            std::fprintf(stderr, "arrival verify: cannot write report %s\n", a.report_file.c_str());
            return exit_partial;
        }
    }
    std::vector<bool> compared;
    std::vector<std::optional<engine::error_kind>> kinds;
    for (const auto& r : results) {
        compared.push_back(r.error.empty());
        kinds.push_back(r.error_kind_);
    }
    // Same statuses as migrate: 4-7 when every account failed the same connection-level way.
    const int status = exit_status_for(compared, kinds, missing > 0 || flags_differ > 0);
    return status == exit_ok ? exit_ok : status;
}

}  // namespace arrival::cli
