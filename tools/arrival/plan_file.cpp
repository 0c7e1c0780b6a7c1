#include "tools/arrival/plan_file.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "engine/plan/plan_parser.hpp"
#include "engine/plan/stage_table.hpp"

namespace arrival::cli {

std::optional<plan::run_plan> load_plan_file(const std::string& file, const char* command) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "%s: cannot read plan %s\n", command, file.c_str());
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto dir = std::filesystem::absolute(file).parent_path().string();
    auto result = plan::parse_plan(text.str(), file, dir);
    std::vector<plan::plan_error> errors = std::move(result.errors);
    // Files only once the plan parses: a syntax error leaves no paths to look at.
    for (const auto& p : result.plan.paths) {
        std::error_code ec;
        if (!std::filesystem::exists(p.path, ec)) errors.push_back({p.where, fmt::format("{}: {} does not exist", p.what, p.path)});
    }
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.where.line < b.where.line; });
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", plan::format_error(file, e).c_str());
    for (const auto& [name, c] : result.plan.credentials) {
        if (!c.env.empty() && std::getenv(c.env.c_str()) == nullptr) {
            const auto msg = fmt::format("warning: [credentials.{}] env = \"{}\" is not set here; `arrival run` needs it set", name, c.env);
            std::fprintf(stderr, "%s\n", plan::format_error(file, {c.where, msg}).c_str());
        }
    }
    if (!errors.empty()) {
        std::fprintf(stderr, "%s: %zu error(s) in %s\n", command, errors.size(), file.c_str());
        return std::nullopt;
    }
    return std::move(result.plan);
}

void print_stage_list(const plan::run_plan& p, const plan::run_settings& settings) {
    std::printf("%zu stage(s), in run order:\n", p.stages.size());
    std::size_t i = 0;
    for (const auto& st : p.stages) {
        const auto* spec = plan::find_stage_spec(st.name);
        const auto after = p.runs_after(st);
        std::printf("  %zu. %-10s %.*s%s\n", ++i, st.name.c_str(), static_cast<int>(spec->summary.size()), spec->summary.data(),
                    after.empty() ? "" : fmt::format(" (after {})", fmt::join(after, ", ")).c_str());
        const auto cmd = plan::build_stage_command(p, st, settings);
        std::printf("     %s\n", plan::shell_line(cmd.argv).c_str());
        for (const auto& e : cmd.env) std::printf("     (password: $%s handed over as $%s)\n", e.from.c_str(), e.target.c_str());
    }
}

std::string default_run_dir(const std::string& plan_file) {
    auto p = std::filesystem::absolute(plan_file);
    p.replace_extension(".run");
    return p.lexically_normal().string();
}

}  // namespace arrival::cli
