// The JSON report of `arrival provision --report FILE.json`. Field names are a contract for scripts:
//   { "mode": "check"|"emit"|"ldap", "inputs": [...], "destination": URL|null,
//     "counts": { "read", "planned", "created", "modified", "unchanged", "deleted", "changes" (change records
//                 read), "dropped_attribute", "failed",
//                 "skipped", "errors", "warnings", "kinds": {kind: n} },
//     "dropped_attributes": [{"name", "entries", "reason", "first"}],
//     "dropped_object_classes": [...same...],
//     "problems": [{"level", "code", "file", "line", "dn", "message"}],
//     "seconds": s }
// No attribute values appear in it (userPassword hashes stay out of reports).
#pragma once
#include <string>
#include <vector>

#include "provision/ldap_writer.hpp"
#include "provision/plan.hpp"

namespace arrival::provision {

struct report_input {
    std::string mode;
    std::vector<std::string> inputs;
    std::string destination;  // "" when offline
    const plan_result* plan = nullptr;
    const write_result* written = nullptr;  // null when nothing was written/compared
    double seconds = 0;
};

std::string render_report_json(const report_input& in);

}  // namespace arrival::provision
