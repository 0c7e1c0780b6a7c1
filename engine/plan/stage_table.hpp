// The stages a plan may name, in the order `arrival run` runs them, with what each needs: the servers it
// talks to, the stages it depends on, and its options (plan key -> the stage command's flag). One table, read
// by the parser (what is allowed), `arrival plan check` (what is printed) and `arrival run` (what runs when).
#pragma once
#include <span>
#include <string_view>

namespace arrival::plan {

enum class value_type { text, path, integer, boolean, text_list, path_list };

[[nodiscard]] std::string_view to_string(value_type t) noexcept;

struct option_spec {
    std::string_view key;    // in [stages.NAME]
    std::string_view flag;   // the stage command's flag; "" for positional arguments
    value_type type;
    bool required = false;
    std::span<const std::string_view> choices = {};   // text values allowed (empty: any)
};

struct stage_spec {
    std::string_view name;
    std::string_view command;                      // the `arrival COMMAND` it runs (grants runs `shares --from`)
    std::string_view summary;
    std::span<const std::string_view> servers;     // roles it needs in [servers.*]
    std::span<const std::string_view> depends_on;  // when these are in the plan, they must have succeeded first
    std::span<const option_spec> options;
    std::span<const option_spec> common_options;   // shared with other stages (migrate, shares, verify)
};

// Every stage, in run order. Besides `depends_on`, a stage may name more stages it runs after with the plan
// key `after` (plan_parser.cpp reads it; it is no command flag).
[[nodiscard]] std::span<const stage_spec> stage_table() noexcept;
[[nodiscard]] const stage_spec* find_stage_spec(std::string_view name) noexcept;

// Server roles and the keys each accepts in [servers.ROLE].
struct server_spec {
    std::string_view role;
    std::span<const std::string_view> keys;
};
[[nodiscard]] std::span<const server_spec> server_table() noexcept;
[[nodiscard]] const server_spec* find_server_spec(std::string_view role) noexcept;

}  // namespace arrival::plan
