// Fuzzes the run plan parser (engine/plan/plan_parser.hpp): any bytes give a plan or errors, never a crash,
// and every error has a line (a plan check that cannot say where is useless).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/plan/plan_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = arrival::plan::parse_plan(text, "fuzz.toml", "/plans");
    for (const auto& e : r.errors) {
        if (e.where.line == 0 || e.message.empty()) __builtin_trap();
    }
    if (r.ok() && (r.plan.stages.empty() || r.plan.accounts.empty())) __builtin_trap();   // a valid plan has both
    return 0;
}
