// A stage of the plan as the command line of its `arrival STAGE` command, which `arrival run` calls in-process
// (tools/arrival/commands.hpp). Credentials stay references: a file goes in as its --*-password-file flag; an
// environment variable the plan names is handed over as the variable the stage reads (ARRIVAL_*_PASSWORD),
// in the process's environment, never in argv.
#pragma once
#include <string>
#include <vector>

#include "engine/plan/plan.hpp"
#include "engine/shard.hpp"

namespace arrival::plan {

// While the stage runs, `target` (what the stage command reads) holds the value of `from` (what the plan
// names); restored afterwards.
struct env_handover {
    std::string target;
    std::string from;
};

struct stage_command {
    std::string stage;
    std::vector<std::string> argv;   // argv[0] is the command the stage runs (stage_spec::command), as main() passes it
    std::vector<env_handover> env;
    std::string report;              // the JSON report the stage writes (RUN_DIR/<stage>.json)
    // shell_line() of the argv without --progress: what the run state keeps, so a rerun skips a completed
    // stage unless the plan changed what it does.
    std::string identity;
};

struct run_settings {
    std::string run_dir;             // this shard's: `arrival run` puts shard K of N in RUN_DIR/shard-K-of-N
    // The stages' --progress (provision, shares and verify have none). `arrival run` gives "none": the stages
    // count, and the run draws one display for all of them (engine/run_progress.hpp).
    std::string progress = "none";
    // Every stage gets --shard K/N when the run is sharded (nothing when 0/1, as the stage commands default).
    engine::shard_spec shard;
};

[[nodiscard]] stage_command build_stage_command(const run_plan& plan, const stage& st, const run_settings& run);

// The command line as one shell-quoted string, as --dry-run, `plan check` and the run print it.
[[nodiscard]] std::string shell_line(const std::vector<std::string>& argv);

}  // namespace arrival::plan
