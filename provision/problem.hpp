// A finding about the input or the run, with the place it comes from. Errors stop provisioning before any
// write; warnings (a dropped attribute, a skipped server entry) are reported and the run goes on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace arrival::provision {

struct problem {
    enum class severity : std::uint8_t { error, warning };
    severity level = severity::error;
    std::string code;     // stable short name: "duplicate_dn", "missing_parent", "ldif_syntax", ...
    std::string file;     // "" when not tied to an input file
    std::uint32_t line = 0;
    std::string dn;
    std::string message;  // never contains attribute values that could be secrets (userPassword)
};

inline bool has_errors(const std::vector<problem>& ps) {
    for (const auto& p : ps) {
        if (p.level == problem::severity::error) return true;
    }
    return false;
}

// "file:line: dn: message" (the parts that are known).
std::string format_problem(const problem& p);

}  // namespace arrival::provision
