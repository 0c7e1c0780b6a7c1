#include "tools/arrival/shard_option.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace arrival::cli {

void shard_option::add_to(CLI::App& app) {
    app.add_option("--shard", text,
                   "K/N: work only on the accounts of shard K of N (0 <= K < N), a stable partition by a hash of the "
                   "lower-cased source address, the same on every machine (doc/scale.md); what belongs to no one "
                   "account (public folders, domains, lists) is shard 0's. Default 0/1: everything")
        ->check(CLI::Validator(
            [](std::string& value) {
                try {
                    (void)engine::parse_shard(value);
                    return std::string();
                } catch (const std::invalid_argument& e) {
                    return std::string(e.what());
                }
            },
            "K/N"));
}

void keep_shard_accounts(std::vector<engine::account_pair>& accounts, const engine::shard_spec& shard) {
    if (!shard.sharded()) return;
    std::erase_if(accounts, [&](const engine::account_pair& a) { return !shard.owns(a.source_user); });
}

std::filesystem::path shard_state_dir(const std::filesystem::path& dir, const engine::shard_spec& shard) {
    if (!shard.sharded()) return dir;
    return dir / fmt::format("shard-{}-of-{}", shard.index, shard.count);
}

void stamp_shard(nlohmann::json& report, const engine::shard_spec& shard) { report["shard"] = shard.str(); }

std::string stamp_shard(std::string_view report_json, const engine::shard_spec& shard) {
    auto j = nlohmann::ordered_json::parse(report_json);
    j["shard"] = shard.str();
    const bool newline = !report_json.empty() && report_json.back() == '\n';
    return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + (newline ? "\n" : "");
}

}  // namespace arrival::cli
