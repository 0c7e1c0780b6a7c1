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

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"
#include "provision/schema.hpp"

namespace arrival::provision {

// What the destination already holds (empty for --check/--emit without --ldap). Keys are lower-case.
struct destination_index {
    std::unordered_set<std::string> ndns;
    std::unordered_set<std::string> domains;       // zimbraDomainName
    std::unordered_set<std::string> cos_ids;       // zimbraId of zimbraCOS entries
    std::unordered_map<std::string, std::string> zimbra_ids;  // zimbraId -> ndn
    std::unordered_map<std::string, std::string> addresses;   // mail / zimbraMailAlias -> ndn
};

struct validation_options {
    const schema* destination_schema = nullptr;  // required attributes from it; a built-in table otherwise
    const destination_index* existing = nullptr;
};

// Appends the problems found. Two passes over the (spooled) plan; runs in O(entries × attributes).
void validate(const directory_model& model, const validation_options& opts, std::vector<problem>& out);

}  // namespace arrival::provision
