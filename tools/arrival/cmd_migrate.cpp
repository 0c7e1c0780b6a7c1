// `arrival migrate`: copies every account pair of the accounts file from --source to --dest.
// Live progress on stderr, the summary table on stdout, the JSON report with --report. Exit status in
// tools/arrival/exit_status.hpp (0 all copied, 1 some accounts or messages failed, 2 usage, ...).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/mail/byte_budget.hpp"
#include "engine/mail/report.hpp"
#include "engine/mail/report_spool.hpp"
#include "engine/mail/scheduler.hpp"
#include "engine/mail/state_store.hpp"
#include "engine/progress.hpp"
#include "engine/run_metrics.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/metrics_option.hpp"
#include "tools/arrival/migrate_options.hpp"

namespace arrival::cli {

int run_migrate(int argc, char** argv) {
    CLI::App app{"arrival migrate: copy every mailbox of the accounts file from the source server to the destination"};
    app.name("arrival migrate");
    migrate_args a;
    add_connection_options(app, a);
    app.add_option("--state-dir", a.state_dir,
                   "resume state (SQLite) lives here (default ./arrival-state); with --shard K/N in its subdirectory shard-K-of-N");
    app.add_flag("--dry-run", a.dry_run, "print the plan (folders to create, messages to copy) and write nothing");
    app.add_flag("--collapse-duplicates", a.collapse_duplicates,
                 "copy at most one message per dedupe key and folder (default: keep every source copy)");
    app.add_flag("--no-sync-flags", a.no_sync_flags,
                 "on a rerun, leave the flags of messages copied earlier as they are (default: they follow the source's changes)");
    app.add_flag("--sync-deletes", a.sync_deletes,
                 "on a rerun, expunge on the destination the messages arrival copied that the source has expunged since");
    app.add_option("--batch", a.batch, "messages per MULTIAPPEND command (default 50)")->check(CLI::Range(1, 1000));
    app.add_option("--memory-mb", a.memory_mb, "budget of in-memory message bytes that all jobs take from before fetching (default 48; not a bound on the process's memory)")->check(CLI::Range(4, 65536));
    app.add_option("--spill-dir", a.spill_dir, "temporary files for bodies over 1 MiB, unlinked at once (default /tmp)");
    app.add_option("--connections-per-account", a.connections_per_account,
                   "folders of one account copied at once, each over its own connection pair (default 2): up to N, the "
                   "further pairs where the folders' round trips repay their logins (all N with --fixed-concurrency)")
        ->check(CLI::Range(1, 64));
    app.add_flag("--fixed-concurrency", a.fixed_concurrency,
                 "open every connection pair the caps and --connections-per-account allow from the start, instead of the adaptive window that "
                 "starts at 8, grows while the throughput rises and backs off when a server fails connections or "
                 "logs in slowly");
    app.add_option("--progress", a.progress_mode, "auto (bar on a terminal, log lines otherwise), bar, log or none")
        ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
    add_metrics_option(app, a.metrics);
    add_public_options(app, a);  // resolve() adds the public job, once, after the accounts
    resolved_run run;
    if (const auto stop = parse_and_resolve(app, argc, argv, a, "arrival migrate", run)) return *stop;

    std::unique_ptr<engine::state_store> state;
    // A dry run reads the state when there is one, to show what a rerun would change (deletions first); it never
    // creates one.
    if (!a.dry_run || std::filesystem::exists(run.state_dir / "arrival-state.sqlite")) {
        try {
            state = std::make_unique<engine::state_store>(run.state_dir);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arrival migrate: %s\n", e.what());
            return exit_nothing_ran;
        }
    }
    // Declared before the server, which reads it from its own thread until it is destroyed.
    engine::run_metrics metrics;
    std::unique_ptr<http::metrics_server> metrics_server;
    if (const auto stop = attach_metrics(a.metrics, metrics, "arrival migrate", metrics_server, run.job.pipeline.metrics)) return *stop;
    engine::byte_budget budget(static_cast<std::uint64_t>(a.memory_mb) << 20);
    run.job.pipeline.budget = &budget;
    run.job.state = state.get();

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    // Without a display, progress still samples the throughput series for the report.
    const bool show = a.progress_mode != "none";
    engine::progress prog(show ? stderr : nullptr, a.progress_mode == "bar" || (a.progress_mode == "auto" && tty));
    prog.set_accounts(run.accounts.accounts.size());
    if (!a.dry_run) {
        run.job.progress_sink = &prog;
        prog.start();
    }
    if (a.dry_run) run.job.plan_out = stdout;

    std::fprintf(stderr, "arrival migrate: %zu account(s) from %s to %s, %zu at a time%s%s\n", run.accounts.accounts.size(),
                 run.job.source.url.c_str(), run.job.dest.url.c_str(), std::min(run.sched.jobs, run.accounts.accounts.size()),
                 a.dry_run ? " (dry run)" : "", run.shard.sharded() ? fmt::format(" (shard {})", run.shard.str()).c_str() : "");
    // Each finished account's report waits on disk, not in memory (engine/mail/report_spool.hpp), beside the state.
    try {
        run.sched.spool = std::make_shared<engine::report_spool>(state ? run.state_dir : std::filesystem::temp_directory_path());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "arrival migrate: %s; the accounts' reports stay in memory\n", e.what());
    }
    auto outcome = engine::run_accounts(run.accounts.accounts, run.job, run.sched);
    outcome.report.shard = run.shard.str();
    prog.stop();
    if (!a.dry_run) {
        outcome.report.throughput = prog.throughput();
        outcome.report.throughput_every = prog.throughput_every();
    }

    std::fputs(engine::summary_table(outcome.report).c_str(), stdout);
    for (const auto& acc : outcome.report.accounts) {
        for (const auto& f : acc.folders) {
            for (const auto& m : f.failed) {
                std::fprintf(stdout, "not copied: %s '%s' UID %u: %s\n", acc.source_user.c_str(), f.source_folder.c_str(), m.uid,
                             m.reason.c_str());
            }
        }
        for (const auto& e : acc.errors) std::fprintf(stdout, "problem: %s: %s\n", acc.source_user.c_str(), e.c_str());
    }
    if (!a.report_file.empty()) {
        try {
            engine::write_report(a.report_file, outcome.report);
            std::fprintf(stdout, "report: %s\n", std::filesystem::absolute(a.report_file).c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arrival migrate: %s\n", e.what());
            return exit_partial;
        }
    }
    std::fflush(stdout);
    std::vector<bool> ok;
    for (const auto& acc : outcome.report.accounts) ok.push_back(acc.ok);
    return exit_status_for(ok, outcome.fatal_kinds, outcome.report.failed() > 0);
}

}  // namespace arrival::cli
