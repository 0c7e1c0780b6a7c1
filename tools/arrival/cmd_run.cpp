// `arrival run PLAN.toml [--run-dir DIR] [--redo STAGE]... [--dry-run] [--shard K/N] [--metrics ADDR] [--progress MODE]`: runs the plan's
// stages in order, in this process, through the stage commands' own functions (commands.hpp) with an argv
// built from the plan (engine/plan/stage_command.hpp). The run directory keeps run-state.json (how each stage
// ended, and its command line), each stage's JSON report, migrate's state store and run.json; a sharded run
// keeps them in RUN_DIR/shard-K-of-N, as the stage commands keep their state, and hands every stage --shard. A stage that
// ended ok with the same command line is skipped on a rerun unless --redo names it; a stage whose
// dependency did not succeed is not run ("blocked", with the reason). Ctrl-C/SIGTERM: the running stage
// commits what is in flight and stops (engine/stop_request.hpp), the state is saved, exit status 130.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/mail/report.hpp"
#include "engine/owner_only.hpp"
#include "engine/plan/run_state.hpp"
#include "engine/plan/stage_command.hpp"
#include "engine/plan/stage_table.hpp"
#include "engine/report_html.hpp"
#include "engine/run_metrics.hpp"
#include "engine/run_progress.hpp"
#include "engine/stop_request.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/metrics_option.hpp"
#include "tools/arrival/plan_file.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {
namespace {

using clock_type = std::chrono::steady_clock;

int (*stage_function(const std::string& name))(int, char**) {
    if (name == "provision") return run_provision;
    if (name == "migrate") return run_migrate;
    if (name == "calendars") return run_calendars;
    if (name == "contacts") return run_contacts;
    if (name == "files") return run_files;
    if (name == "shares") return run_shares;
    if (name == "verify") return run_verify;
    return nullptr;
}

// The plan's environment variables handed over as the ones the stage reads, for the stage's duration.
class env_handover_scope {
public:
    explicit env_handover_scope(const std::vector<plan::env_handover>& env) {
        for (const auto& e : env) {
            const char* value = std::getenv(e.from.c_str());
            if (!value) {
                missing_ = e.from;
                return;
            }
            const char* before = std::getenv(e.target.c_str());
            saved_.push_back({e.target, before ? std::optional<std::string>(before) : std::nullopt});
            ::setenv(e.target.c_str(), value, 1);
        }
    }
    ~env_handover_scope() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }
    env_handover_scope(const env_handover_scope&) = delete;
    env_handover_scope& operator=(const env_handover_scope&) = delete;
    [[nodiscard]] const std::string& missing() const { return missing_; }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
    std::string missing_;
};

// Calls the stage's command function with `argv`; an exception is the stage's failure (exit 3), as main()
// would make it.
int call_stage(const plan::stage_command& cmd, std::string& reason) {
    std::vector<std::string> args = cmd.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    try {
        std::fflush(stdout);
        const int rc = stage_function(cmd.argv.front())(static_cast<int>(args.size()), argv.data());
        std::fflush(stdout);
        return rc;
    } catch (const std::exception& e) {
        reason = e.what();
        std::fprintf(stderr, "arrival %s: %s\n", cmd.stage.c_str(), e.what());
        return exit_nothing_ran;
    }
}

// Holds RUN_DIR/run.lock for the run: two runs on one directory would interleave their state.
class run_lock {
public:
    explicit run_lock(const std::string& dir) {
        fd_ = ::open((std::filesystem::path(dir) / "run.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ok_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
    }
    ~run_lock() {
        if (fd_ >= 0) ::close(fd_);
    }
    run_lock(const run_lock&) = delete;
    run_lock& operator=(const run_lock&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

private:
    int fd_ = -1;
    bool ok_ = false;
};

std::string elapsed(clock_type::time_point t0) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(clock_type::now() - t0).count();
    return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

// What stops `st` from running: the first stage it runs after (the stage table's, in the plan, and its `after`)
// that did not end ok or partial. Empty when nothing does.
std::string blocked_by(const plan::run_plan& p, const plan::stage& st, const plan::run_state& state) {
    for (const auto& dep : p.runs_after(st)) {
        const auto* r = state.find(dep);
        if (!r) return fmt::format("{} has not run", dep);
        if (r->status != "ok" && r->status != "partial") {
            return fmt::format("{} did not succeed ({}{})", dep, r->status,
                               r->status == "failed" ? fmt::format(", exit status {}", r->exit_status) : "");
        }
    }
    return {};
}

void write_run_files(const plan::run_plan& p, const plan::run_settings& settings, const plan::run_state& state) {
    std::vector<plan::run_row> rows;
    for (const auto& st : p.stages) {
        plan::run_row row;
        row.name = st.name;
        if (const auto* r = state.find(st.name)) row.record = *r;
        else row.record.status = "not_run";
        row.report_file = plan::build_stage_command(p, st, settings).report;
        rows.push_back(std::move(row));
    }
    const auto run = plan::run_json(rows, settings.shard.str());
    const auto dir = std::filesystem::path(settings.run_dir);
    plan::write_owner_only_atomically((dir / "run.json").string(), run.dump(2) + "\n");
    plan::write_owner_only_atomically((dir / "report.html").string(), engine::render_html_report(run));
}

}  // namespace

int run_run(int argc, char** argv) {
    CLI::App app{"arrival run: run the stages of a plan (PLAN.toml, doc/run.md) in order, resumably"};
    app.name("arrival run");
    std::string file, run_dir, progress_mode = "auto";
    std::vector<std::string> redo;
    bool dry_run = false;
    app.add_option("plan", file, "the plan file")->required();
    app.add_option("--run-dir", run_dir, "state, reports and run.json go here (default: PLAN.run next to the plan)");
    app.add_option("--redo", redo, "run STAGE again even if it completed (repeatable)");
    app.add_flag("--dry-run", dry_run, "print what would run and what would be skipped; run nothing, write nothing");
    shard_option shard;
    shard.add_to(app);
    std::string metrics_address;
    app.add_option("--metrics", metrics_address,
                   "serve Prometheus metrics over HTTP at ADDR:PORT/metrics for the whole run (:PORT binds 127.0.0.1); "
                   "the migrate stage counts into them (doc/metrics.md)");
    app.add_option("--progress", progress_mode,
                   "the run's one progress display on stderr: auto (a line redrawn in place on a terminal, a log line every "
                   "5 s otherwise), bar, log or none")
        ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    const auto p = load_plan_file(file, "arrival run");
    if (!p) return exit_usage;
    for (const auto& r : redo) {
        if (!p->find_stage(r)) {
            std::fprintf(stderr, "arrival run: --redo %s: the plan has no stage '%s'\n", r.c_str(), r.c_str());
            return exit_usage;
        }
    }
    plan::run_settings settings;
    // --shard wins over the plan's shard = "K/N"; both were checked already.
    settings.shard = engine::parse_shard(app.count("--shard") ? shard.text : p->shard.empty() ? "0/1" : p->shard);
    const std::filesystem::path base = std::filesystem::absolute(run_dir.empty() ? default_run_dir(file) : run_dir);
    settings.run_dir = shard_state_dir(base, settings.shard).lexically_normal().string();
    const std::set<std::string> redo_set(redo.begin(), redo.end());

    // Declared before the server, which reads it from its own thread until it is destroyed; lent to the stages
    // for as long as the run lasts.
    engine::run_metrics metrics;
    std::unique_ptr<http::metrics_server> metrics_server;
    if (!metrics_address.empty() && !dry_run) {
        if (const auto stop = serve_metrics(metrics_address, metrics, "arrival run", metrics_server)) return *stop;
        engine::lend_run_metrics(&metrics);
    }
    struct metrics_return {
        ~metrics_return() { engine::lend_run_metrics(nullptr); }
    } give_back;
    std::error_code ec;
    if (!dry_run) {
        engine::create_owner_only_dirs(settings.run_dir, ec);
        if (ec) {
            std::fprintf(stderr, "arrival run: cannot create %s: %s\n", settings.run_dir.c_str(), ec.message().c_str());
            return exit_nothing_ran;
        }
    }
    std::optional<run_lock> lock;
    if (!dry_run) {
        lock.emplace(settings.run_dir);
        if (!lock->ok()) {
            std::fprintf(stderr, "arrival run: another arrival run is using %s\n", settings.run_dir.c_str());
            return exit_usage;
        }
    }
    auto state = plan::run_state::load(settings.run_dir);
    const auto t0 = clock_type::now();
    const std::size_t n = p->stages.size();
    std::printf("arrival run: %s, %zu stage(s), run directory %s%s%s\n", file.c_str(), n, settings.run_dir.c_str(),
                settings.shard.sharded() ? fmt::format(" (shard {})", settings.shard.str()).c_str() : "", dry_run ? " (dry run)" : "");
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    engine::run_progress display(progress_mode != "none" && !dry_run ? stderr : nullptr,
                                 progress_mode == "bar" || (progress_mode == "auto" && tty));
    display.start();
    // What the stages after stage `from` (0-based) will take: 0 for those a rerun skips, an earlier run's time for
    // those it ran before; unknown as soon as one has neither.
    const auto later_seconds = [&](std::size_t from) -> std::optional<double> {
        double sum = 0;
        for (std::size_t j = from + 1; j < p->stages.size(); ++j) {
            const auto& later = p->stages[j];
            const auto* r = state.find(later.name);
            if (!redo_set.count(later.name) && state.completed(later.name, plan::build_stage_command(*p, later, settings).identity)) continue;
            if (!r || r->seconds <= 0 || (r->status != "ok" && r->status != "partial")) return std::nullopt;
            sum += r->seconds;
        }
        return sum;
    };
    std::size_t i = 0;
    bool interrupted = false;
    for (const auto& st : p->stages) {
        ++i;
        const auto cmd = plan::build_stage_command(*p, st, settings);
        const auto line = cmd.identity;
        const auto tag = fmt::format("stage {}/{} {}", i, n, st.name);
        auto keep = [&](plan::stage_record r) {
            if (dry_run) return;
            r.finished = engine::iso8601_utc_now();
            state.set(st.name, std::move(r));
            state.save();
            write_run_files(*p, settings, state);
        };
        if (interrupted || engine::stop_requested()) {
            interrupted = true;
            std::printf("%s: not run (interrupted)\n", tag.c_str());
            if (!state.completed(st.name, line)) keep({.status = "not_run", .command = line, .reason = "the run was interrupted before it"});
            continue;
        }
        if (!redo_set.count(st.name) && state.completed(st.name, line)) {
            std::printf("%s: completed earlier (%s), skipped; --redo %s runs it again\n", tag.c_str(),
                        state.find(st.name)->finished.c_str(), st.name.c_str());
            continue;
        }
        if (dry_run) {
            std::printf("%s: would run\n  %s\n", tag.c_str(), plan::shell_line(cmd.argv).c_str());
            continue;
        }
        if (const auto why = blocked_by(*p, st, state); !why.empty()) {
            std::printf("%s: blocked: %s\n", tag.c_str(), why.c_str());
            keep({.status = "blocked", .command = line, .reason = why});
            continue;
        }
        std::printf("%s: %s\n", tag.c_str(), plan::shell_line(cmd.argv).c_str());
        std::fflush(stdout);
        plan::stage_record r{.command = line};
        // A report left by an earlier run of this stage must not stand in for this run's in run.json.
        std::filesystem::remove(cmd.report, ec);
        const auto s0 = clock_type::now();
        {
            env_handover_scope env(cmd.env);
            if (!env.missing().empty()) {
                r.exit_status = exit_usage;
                r.reason = fmt::format("environment variable {} (a credential of the plan) is not set", env.missing());
                std::fprintf(stderr, "arrival run: %s: %s\n", st.name.c_str(), r.reason.c_str());
            } else {
                display.stage_started(i, n, st.name, later_seconds(i - 1));
                r.exit_status = call_stage(cmd, r.reason);
                display.stage_finished();
            }
        }
        r.seconds = std::chrono::duration<double>(clock_type::now() - s0).count();
        r.status = engine::stop_requested() ? "interrupted" : plan::status_for_exit(r.exit_status);
        if (r.status == "interrupted") {
            interrupted = true;
            if (r.reason.empty()) r.reason = "Ctrl-C or SIGTERM: work in flight committed, state saved; rerun to resume";
        } else if (r.status == "failed" && r.reason.empty()) {
            r.reason = fmt::format("arrival {} ended with exit status {} (its messages above, its report in the run directory)",
                                   st.name, r.exit_status);
        }
        std::printf("%s: %s (exit status %d, %.1f s, run %s)\n", tag.c_str(), r.status.c_str(), r.exit_status, r.seconds,
                    elapsed(t0).c_str());
        keep(std::move(r));
    }
    display.stop();
    if (dry_run) return exit_ok;
    write_run_files(*p, settings, state);
    std::size_t ok = 0;
    for (const auto& st : p->stages) ok += state.find(st.name) && state.find(st.name)->status == "ok";
    std::printf("arrival run: %zu of %zu stage(s) ok in %s; %s/run.json\n", ok, n, elapsed(t0).c_str(), settings.run_dir.c_str());
    if (interrupted) return exit_interrupted;
    return ok == n ? exit_ok : exit_partial;
}

}  // namespace arrival::cli
