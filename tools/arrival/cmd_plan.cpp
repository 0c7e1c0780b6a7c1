// `arrival plan check PLAN.toml`: validates a run plan without touching any server: every error with its
// line and column (unknown keys, wrong types, missing servers or credentials, literal passwords, files that
// do not exist), then the stage list with each stage's command line. Exit 0 valid, 2 errors.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/plan_file.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {

int run_plan_command(int argc, char** argv) {
    CLI::App app{"arrival plan check PLAN.toml: validate a run plan (doc/run.md) without contacting any server, and print "
                 "its stage list"};
    app.name("arrival plan");
    std::string action, file, run_dir;
    app.add_option("action", action, "check (the one action)")->required()->check(CLI::IsMember({"check"}));
    app.add_option("plan", file, "the plan file")->required();
    app.add_option("--run-dir", run_dir, "the run directory the command lines name (default: PLAN.run next to the plan)");
    shard_option shard;
    shard.add_to(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    const auto p = load_plan_file(file, "arrival plan check");
    if (!p) return exit_usage;
    std::printf("plan %s: valid\n", file.c_str());
    plan::run_settings settings;
    // --shard wins over the plan's shard = "K/N", as in `arrival run`: the command lines are that shard's.
    if (app.count("--shard")) settings.shard = engine::parse_shard(shard.text);
    else if (!p->shard.empty()) settings.shard = engine::parse_shard(p->shard);
    settings.run_dir = shard_state_dir(run_dir.empty() ? default_run_dir(file) : run_dir, settings.shard).string();
    if (settings.shard.sharded()) {
        std::printf("shard %s%s\n", settings.shard.str().c_str(),
                    app.count("--shard") ? "" : " (arrival run --shard K/N overrides it)");
    }
    print_stage_list(*p, settings);
    return exit_ok;
}

}  // namespace arrival::cli
