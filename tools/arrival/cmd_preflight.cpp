// `arrival preflight`: one read-only command against the real servers, before the night (engine/mail/preflight.hpp).
// Reaches both sides with verified TLS, has the admin act for the first account on each, detects the
// destination's profile and the limits it will apply, and scans every account's source folders, keywords,
// sizes and dates without fetching a body. With --rest, the Carbonio REST side is checked too: admin SOAP
// AuthRequest, DelegateAuthRequest for the first destination account, and a GET of its Calendar and Contacts.
// Prints what the migration will change or refuse, with counts and examples; --json prints it as JSON and
// --report writes it to a file. Exit status 0 when nothing blocks; 4-7 when a side cannot be reached, verified
// or logged into; 1 when some account's source could not be read.
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/mail/preflight.hpp"
#include "engine/owner_only.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/metrics_option.hpp"
#include "tools/arrival/migrate_options.hpp"
#include "tools/arrival/rest_check.hpp"

namespace arrival::cli {

namespace {

int exit_for(const std::optional<engine::error_kind>& kind) {
    return kind ? exit_status_of(*kind).value_or(exit_partial) : exit_partial;
}

}  // namespace

int run_preflight(int argc, char** argv) {
    CLI::App app{"arrival preflight: check both servers and scan the source (no bodies) for what the migration will change or refuse"};
    app.name("arrival preflight");
    migrate_args a;
    add_connection_options(app, a);
    bool json = false;
    rest_check_args rest;
    app.add_flag("--json", json, "print the report as JSON on stdout instead of text");
    bool content = false;
    app.add_flag("--content", content,
                 "also fetch every source body and count, per folder with UIDs, bare LF, NUL, 8-bit headers, lines over 998 "
                 "octets and malformed MIME");
    add_rest_check_options(app, rest);
    add_metrics_option(app, a.metrics);
    resolved_run run;
    if (const auto stop = parse_and_resolve(app, argc, argv, a, "arrival preflight", run)) return *stop;
    if (run.accounts.accounts.empty()) {
        if (run.shard.sharded()) {
            // Not an error: a small list cut in many shards leaves some empty.
            std::fprintf(stderr, "arrival preflight: shard %s holds none of the accounts listed; nothing to check\n",
                         run.shard.str().c_str());
            return exit_ok;
        }
        std::fprintf(stderr, "arrival preflight: the accounts file lists no account\n");
        return exit_usage;
    }

    // Declared before the server, which reads it from its own thread until it is destroyed.
    engine::run_metrics metrics;
    std::unique_ptr<http::metrics_server> metrics_server;
    if (const auto stop = attach_metrics(a.metrics, metrics, "arrival preflight", metrics_server, run.job.pipeline.metrics)) return *stop;
    engine::preflight_options opt;
    opt.job = run.job;
    opt.jobs = run.sched.jobs;
    opt.content = content;
    auto report = engine::run_preflight(run.accounts.accounts, opt);
    if (!rest.url.empty()) {
        report.rest = check_rest(rest, run.accounts.accounts.front().dest_user, run.job);
    }

    auto j = engine::to_json(report);
    stamp_shard(j, run.shard);
    if (json) std::fputs((j.dump(2) + "\n").c_str(), stdout);
    else std::fputs(engine::describe(report).c_str(), stdout);
    if (!a.report_file.empty()) {
        auto out = engine::open_owner_only(a.report_file);
        out << j.dump(2) << '\n';
        if (!out) {
            std::fprintf(stderr, "arrival preflight: cannot write report %s\n", a.report_file.c_str());
            return exit_partial;
        }
    }
    // A side that failed decides the status (the first one, in the order checked); then unreadable accounts.
    for (const auto* side : {&report.source, &report.dest}) {
        if (!side->ok) return exit_for(side->kind);
    }
    if (report.rest && !report.rest->ok) return exit_for(report.rest->kind);
    return report.blocks() ? exit_partial : exit_ok;
}

}  // namespace arrival::cli
