// Writers: LDIF for slapadd (entries in plan order, parents first; values that are not SAFE-STRING in
// RFC 2849 terms are base64; lines folded at 76 columns) and the accounts file `arrival migrate` reads.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "provision/directory_model.hpp"

namespace arrival::provision {

// Appends one LDIF content record (with the blank line that ends it) to `out`.
void emit_ldif_entry(const entry& e, std::string& out);

// Every entry of the (ordered) model, handed to `sink` in pieces of about 1 MiB (the plan is spooled, not
// held: the output is never whole in memory either).
void emit_ldif(const directory_model& model, const std::function<void(std::string_view)>& sink);
// The same, appended to `out` (small plans, tests).
void emit_ldif(const directory_model& model, std::string& out);

// The accounts file: CSV with the header `source_user,dest_user`, one line per account (zimbraAccount),
// the source address as on the old server (before --rename-domain) and the destination address.
// Addresses never contain ',' or '"', so no field needs quoting. Sorted by destination address.
void emit_accounts_csv(const directory_model& model, std::string& out);

// An account's addresses as the accounts file names them, lower-cased: the source address (as on the old server)
// and the destination's. Both empty when the entry has no address.
struct account_addresses {
    std::string source, dest;
};
[[nodiscard]] account_addresses addresses_of_account(const entry& e);

}  // namespace arrival::provision
