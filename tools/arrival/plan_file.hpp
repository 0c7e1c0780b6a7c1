// Reading PLAN.toml for `arrival plan check` and `arrival run`: the parser's errors, then the files the plan
// names (which must exist) and the environment variables it names (a warning when unset: the check may run
// on another machine than the run). Every problem is printed as FILE:LINE:COLUMN: message.
#pragma once
#include <optional>
#include <string>

#include "engine/plan/plan.hpp"
#include "engine/plan/stage_command.hpp"

namespace arrival::cli {

// nullopt when the plan has errors (all of them printed on stderr, prefixed with `command`).
[[nodiscard]] std::optional<plan::run_plan> load_plan_file(const std::string& file, const char* command);

// The stages in run order with what they wait for and their command lines (no secret is ever in them).
void print_stage_list(const plan::run_plan& p, const plan::run_settings& settings);

// PLAN.toml -> PLAN.run next to it: the run directory when --run-dir is not given.
[[nodiscard]] std::string default_run_dir(const std::string& plan_file);

}  // namespace arrival::cli
