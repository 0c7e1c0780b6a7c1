// An RFC 2849 change record (changetype: modify / delete / modrdn / moddn) as the plan keeps it, in file
// order, with where it came from. `changetype: add` is not one: it is an entry like a content record.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "provision/entry.hpp"
#include "provision/ldif_reader.hpp"

namespace arrival::provision {

struct change_record {
    change_type type = change_type::modify;  // modify, del or modrdn
    std::string dn;                          // as written
    std::string ndn;                         // normalized
    source_location loc;                     // the `dn:` line
    std::vector<ldif_mod> mods;              // modify: values already read (no value_kind::url left)
    std::string new_rdn;                     // modrdn
    bool delete_old_rdn = false;
    std::optional<std::string> new_superior;
    // Set once the change has been applied to an entry of the plan (or, for a delete, recorded in the
    // plan's deletes): what is left unresolved targets an entry the input does not carry.
    bool resolved = false;
};

// An entry the destination must not have after the run (a changetype: delete), removed online deepest first.
struct planned_delete {
    std::string dn, ndn;
    source_location loc;
};

}  // namespace arrival::provision
