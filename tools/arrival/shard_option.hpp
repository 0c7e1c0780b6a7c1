// `--shard K/N`, the same on every stage command (issue 12): the option, the account filter, the state
// directory per shard and the report's "shard" field. The partition itself is engine/shard.hpp.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include "engine/account_list.hpp"
#include "engine/shard.hpp"

namespace arrival::cli {

struct shard_option {
    std::string text = "0/1";
    engine::shard_spec spec;

    // Registers --shard on `app`; a bad value is a parse error (exit 2, CLI11 prints why). After app.parse(),
    // call resolve().
    void add_to(CLI::App& app);
    void resolve() { spec = engine::parse_shard(text); }
};

// Keeps the accounts whose source address is this shard's, in their order.
void keep_shard_accounts(std::vector<engine::account_pair>& accounts, const engine::shard_spec& shard);

// Where shard K of N keeps its state: DIR itself when not sharded, else DIR/shard-K-of-N, so all the shards of a
// run may share one --state-dir (one SQLite file each, no lock between machines) and a rerun of shard K opens
// only its own. Changing N starts new state dirs: the destination's dedupe index still keeps a rerun from
// copying twice what an earlier partition copied.
[[nodiscard]] std::filesystem::path shard_state_dir(const std::filesystem::path& dir, const engine::shard_spec& shard);

// Adds "shard": "K/N" at the top level of a stage's report.
void stamp_shard(nlohmann::json& report, const engine::shard_spec& shard);
// The same, for a report already rendered as JSON text (keeps its key order, adds "shard" last).
[[nodiscard]] std::string stamp_shard(std::string_view report_json, const engine::shard_spec& shard);

}  // namespace arrival::cli
