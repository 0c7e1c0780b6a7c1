// Every check that must pass before provisioning writes anything. An offline slapadd would bypass what the
// live directory enforces (unique mail and zimbraId, referential sanity), and a half-loaded directory is
// worse than none, so problems are collected for the whole plan and reported together, each with file:line.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "provision/destination_index.hpp"
#include "provision/directory_model.hpp"
#include "provision/problem.hpp"
#include "provision/schema.hpp"

namespace arrival::provision {

struct validation_options {
    const schema* destination_schema = nullptr;  // required attributes from it; a built-in table otherwise
    const destination_index* existing = nullptr;  // empty for --check/--emit without --ldap
};

// Appends the problems found. Two passes over the (spooled) plan; runs in O(entries × attributes).
void validate(const directory_model& model, const validation_options& opts, std::vector<problem>& out);

}  // namespace arrival::provision
