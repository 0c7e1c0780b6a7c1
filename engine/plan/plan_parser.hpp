// PLAN.toml -> run_plan, with every error the plan has (not only the first), each with its line and column:
// TOML syntax (toml++ stops at the first one), unknown tables and keys, wrong value types, missing servers
// or credentials a stage needs, and literal secrets, which a plan must never hold. Touches no server and
// reads no file but the text it is given.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/plan/plan.hpp"

namespace arrival::plan {

struct plan_error {
    position where;
    std::string message;
};

struct parse_result {
    run_plan plan;
    std::vector<plan_error> errors;   // in file order
    [[nodiscard]] bool ok() const { return errors.empty(); }
};

// `source_name` names the file in messages; `directory` is where relative paths in the plan start.
[[nodiscard]] parse_result parse_plan(std::string_view text, std::string_view source_name, const std::string& directory);

// "PLAN.toml:12:5: message"
[[nodiscard]] std::string format_error(std::string_view source_name, const plan_error& e);

}  // namespace arrival::plan
