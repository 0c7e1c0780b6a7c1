// What a run directory remembers between runs of `arrival run`: per stage, how its last run ended and the
// command line it ran (RUN_DIR/run-state.json, owner-only, replaced atomically), and the run.json that
// gathers the stages' own JSON reports for people and renderers (shape: HELPERS.md, issue 12):
//   {"stages":[{"name":..., "status":..., "report":{...}}...], "shard":"K/N"}
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arrival::plan {

// How a stage ended: "ok" (exit 0), "partial" (exit 1: some accounts or items failed, see its report),
// "failed" (any other exit), "interrupted" (Ctrl-C/SIGTERM while it ran), "blocked" (not run: a stage it
// depends on did not succeed), "not_run" (the run was interrupted before it).
struct stage_record {
    std::string status;
    int exit_status = 0;
    std::string command;    // stage_command::identity: no secret ever appears there
    std::string reason;     // for blocked / failed / interrupted
    std::string finished;   // ISO 8601 UTC
    double seconds = 0;
    bool this_run = true;   // false: taken over from an earlier run (completed, skipped now)
};

[[nodiscard]] std::string status_for_exit(int exit_status);

class run_state {
public:
    // Reads RUN_DIR/run-state.json when there is one. Throws std::runtime_error naming the file when it
    // exists but cannot be read or parsed.
    static run_state load(const std::string& run_dir);
    // Writes RUN_DIR/run-state.json (0600, via a temporary file and rename). Throws on failure.
    void save() const;

    [[nodiscard]] const stage_record* find(const std::string& stage) const;
    void set(const std::string& stage, stage_record r) { stages_[stage] = std::move(r); }

    // A stage that ended "ok" with this same command: a rerun skips it.
    [[nodiscard]] bool completed(const std::string& stage, const std::string& command) const;

private:
    std::string dir_;
    std::map<std::string, stage_record> stages_;
};

// One row of run.json: the stage's record and its JSON report (null when it wrote none, or the file is
// not JSON).
struct run_row {
    std::string name;
    stage_record record;
    std::string report_file;
};
[[nodiscard]] nlohmann::json run_json(const std::vector<run_row>& rows, const std::string& shard);

// Writes `text` to `path` owner-only, through a temporary file renamed over it. Throws on failure.
void write_owner_only_atomically(const std::string& path, const std::string& text);

}  // namespace arrival::plan
