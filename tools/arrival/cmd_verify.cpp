// `arrival verify`: compares source and destination per folder (counts and dedupe-key multisets) with the
// same connection and account options as migrate, and lists every difference. Exit status 0 when nothing
// is missing, 1 when mail is missing or an account could not be compared. With --public, the source's
// shared namespace is compared once more, as one entry, as `migrate --public` maps it.
#include <chrono>
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/mail/verify.hpp"
#include "engine/owner_only.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/metrics_option.hpp"
#include "tools/arrival/migrate_options.hpp"

namespace arrival::cli {

int run_verify(int argc, char** argv) {
    CLI::App app{"arrival verify: compare source and destination folder by folder and list every difference"};
    app.name("arrival verify");
    migrate_args a;
    add_connection_options(app, a);
    add_public_options(app, a);
    app.add_flag("--flags", a.verify_flags, "compare flags and keywords too (the source's as migrate maps them), per message");
    app.add_flag("--content", a.verify_content,
                 "fetch every body: scan the source's for bare LF, NUL, 8-bit headers, long lines and malformed MIME, and compare "
                 "the bytes of each matched pair (SHA-256)");
    add_metrics_option(app, a.metrics);
    resolved_run run;
    if (const auto stop = parse_and_resolve(app, argc, argv, a, "arrival verify", run)) return *stop;
    // Declared before the server, which reads it from its own thread until it is destroyed.
    engine::run_metrics metrics;
    std::unique_ptr<http::metrics_server> metrics_server;
    if (const auto stop = attach_metrics(a.metrics, metrics, "arrival verify", metrics_server, run.job.pipeline.metrics)) return *stop;
    const auto t0 = std::chrono::steady_clock::now();
    const auto results = engine::verify_accounts(run.accounts.accounts, run.job, run.sched.jobs);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::uint64_t missing = 0, failed = 0, folders = 0, messages = 0, flags_differ = 0, bytes_differ = 0, bytes_compared = 0, with_traits = 0;
    for (const auto& r : results) {
        missing += r.missing();
        flags_differ += r.flags_differ();
        bytes_differ += r.bytes_differ();
        for (const auto& f : r.folders) {
            bytes_compared += f.bytes_compared;
            if (f.content) with_traits += f.content->with_traits;
        }
        failed += r.ok() ? 0 : 1;
        folders += r.folders.size();
        for (const auto& f : r.folders) messages += f.source_messages;
    }
    std::fputs(engine::describe_differences(results).c_str(), stdout);
    const std::string flags_part = a.verify_flags ? fmt::format("{} with other flags, ", flags_differ) : "";
    const std::string content_part =
        a.verify_content ? fmt::format("{} of {} compared with other bytes, {} with content traits, ", bytes_differ, bytes_compared, with_traits) : "";
    std::fputs(fmt::format("verify: {} account(s), {} folder(s), {} source message(s): {} missing, {}{}{} account(s) not ok ({:.1f} s)\n",
                           results.size(), folders, messages, missing, flags_part, content_part, failed, seconds)
                   .c_str(),
               stdout);
    if (!a.report_file.empty()) {
        auto out = engine::open_owner_only(a.report_file);
        auto j = engine::to_json(results, seconds);
        stamp_shard(j, run.shard);
        out << j.dump(2) << '\n';
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
    const int status = exit_status_for(compared, kinds, missing > 0 || flags_differ > 0 || bytes_differ > 0);
    return status == exit_ok ? exit_ok : status;
}

}  // namespace arrival::cli
