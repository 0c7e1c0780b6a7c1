// `arrival shares --from shares.csv --dest carbonio+https://host`: shares of calendars, contacts and other
// folders, as an admin can export them from any server, become Carbonio folder grants (FACTS.md §4).
//
// The CSV (RFC 4180, header required, columns in any order): owner,folder,grantee,rights
//   owner     the folder owner's address (mapped through the accounts file, else --map-domain)
//   folder    the folder's path in the owner's mailbox ("/Calendar", "Contacts", "/Work/Team"; any case)
//   grantee   an address (gt=usr), "group:ADDRESS" (gt=grp, the list provisioning made), "anyone" or
//             "authenticated" (gt=all: every authenticated user; Carbonio's "pub" would add anonymous
//             readers, which "anyone" on the source may not have meant, so it is never chosen), "domain:NAME"
//             (gt=dom); addresses are mapped like the owner
//   rights    Carbonio's perm letters: r w i d x a p f (c is accepted by Carbonio with no effect and
//             dropped here); any other letter is refused and reported, never replaced by a wider one;
//             "a" only for users and groups (Mailbox.grantAccess)
// Per owner: a DelegateAuthRequest, one GetFolderRequest (the folders with their <acl>), then one
// FolderActionRequest op=grant per grant the folder lacks, with perm = what it has plus the CSV's letters
// (a grant replaces the grantee's perm, so nothing it had is taken away). A grant already covered is
// `unchanged`: a rerun sends nothing. Results have shares_job's shape (one account_result per owner).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/pim/carbonio_soap.hpp"
#include "engine/pim/import_job.hpp"
#include "engine/shares/shares_job.hpp"

namespace arrival::shares {

struct csv_share {
    std::size_t line = 0;
    std::string owner, folder, grantee, rights;
};

// Reads the CSV; bad rows (missing column, empty owner/folder/grantee) are errors "FILE:LINE: ...".
struct csv_shares {
    std::vector<csv_share> rows;
    std::vector<std::string> errors;
};
[[nodiscard]] csv_shares read_shares_csv(const std::string& path);

struct carbonio_grant_options {
    pim::import_options conn;                      // dest, admin, admin_password, admin_url, tls, timeouts, retries
    std::map<std::string, std::string> accounts;   // source owner/grantee -> destination (lower-case keys)
    std::map<std::string, std::string> domains;    // --map-domain
    bool dry_run = false;
    unsigned jobs = 4;
};

// The Carbonio grant a CSV row asks for: gt, d and perm, or `refused` with why.
struct planned_grant {
    pim::folder_grant grant;
    std::string refused;   // letters left out
    std::string why;
    std::string note;      // mapping of the grantee, when it changed
};
[[nodiscard]] planned_grant plan_carbonio_grant(const csv_share& row, const carbonio_grant_options& o);

[[nodiscard]] std::vector<account_result> run_carbonio_grants(const carbonio_grant_options& o,
                                                              const std::vector<csv_share>& rows);

}  // namespace arrival::shares
