// Change records applied to the plan, so that what is validated, emitted and written is the END STATE of
// the input: a modify that removes a required attribute is refused by the validator before anything is
// written, and --emit (slapadd takes no change records) writes entries as they end up.
//
// A change applies to the entry of the plan with its DN, if the input carries one (content record or
// changetype: add, earlier in file order); the entry is changed in place. A change whose target is not in
// the input is left unresolved: online, the planner reads that entry from the destination and applies it
// again (plan.cpp), then the writer makes the destination match (so a rerun is a no-op: an `add:` of a value
// already present, a modrdn already done, a delete of an absent entry all count as unchanged).
// Deletes are always recorded in the plan's deletes(): online they are sent deepest first after every write.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"

namespace arrival::provision {

struct change_stats {
    std::size_t applied = 0;       // changes applied to an entry of the plan, or deletes recorded
    std::size_t unresolved = 0;    // changes whose target the plan does not hold (yet)
};

// Applies, in file order, every unresolved change whose target is in the model. Errors (with the change's
// file:line): a change that comes before its entry's record, a change of an entry deleted earlier, a modrdn
// onto a DN that exists, an entry left under a deleted one, a modify that cannot apply, an increment of an
// entry read from the destination (not idempotent).
change_stats apply_changes(directory_model& model, std::vector<problem>& out);

// One modify's operations on an entry: add (values already there are kept once), delete (absent values
// are fine), replace, increment. False with a reason on what cannot apply (increment of a non-number).
[[nodiscard]] bool apply_mods(entry& e, const std::vector<ldif_mod>& mods, std::string& error);

// The DN a modrdn moves its entry to; false with a reason when newrdn/newsuperior/the DN do not parse.
[[nodiscard]] bool modrdn_target(const change_record& c, std::string& dn_text, std::string& ndn, std::string& error);

}  // namespace arrival::provision
