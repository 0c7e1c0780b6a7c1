// Reports of a sharded run put back together (`arrival report merge`, issue 12), and the reading of one
// report input into the run shape render_html_report takes.
//
// An input is a run directory (its run.json), a run JSON ({"stages": [...], "shard": "K/N"}) or one stage's
// own report (migrate.json, verify.json, ...), which becomes a one-stage run named by its "command" or
// "stage" field, else by the file's stem. A stage's shard is its report's "shard", else the run's, else
// "0/1" (a report written before sharding existed).
//
// Merging checks the shards first and refuses (shard_error, every problem on its own line, naming the inputs)
// when two inputs give different N, when a stage has the same shard twice, or when a stage lacks a shard of
// 0..N-1. Then each stage's reports, in shard order, merge field by field: lists are concatenated (accounts,
// users, problems, ...), numbers add up except durations and maxima ("seconds", "largest_*", "max_*": the
// largest), "started" is the earliest, flags are or-ed, other strings keep the first shard's; the
// throughput series are added up on one time axis (each shard offset by its "started"); the status is the
// worst of the shards'. The result has "shard": "0/1" (it covers every account, as an unsharded run does)
// and "shards": the K/N that went in.
#pragma once
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace arrival::engine {

struct shard_id {
    unsigned k = 0;
    unsigned n = 1;
};

// A report's "shard" field, "K/N" with 0 <= K < N (engine/shard.hpp's parse_shard); nullopt otherwise.
[[nodiscard]] std::optional<shard_id> shard_field(std::string_view s);

struct report_input {
    std::string name;    // the path given, for messages
    nlohmann::json run;  // run shape
};

// Reads one input. Throws std::runtime_error naming the file (unreadable, not JSON, not a report).
[[nodiscard]] report_input load_report_input(const std::filesystem::path& path);

// A stage report without a run around it, as a one-stage run; `fallback_name` names it when the report does not.
[[nodiscard]] nlohmann::json wrap_stage_report(const nlohmann::json& report, const std::string& fallback_name);

struct shard_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[nodiscard]] nlohmann::json merge_runs(const std::vector<report_input>& inputs);

}  // namespace arrival::engine
