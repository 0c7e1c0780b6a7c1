// `arrival shares` for mail folders: each account's folder ACLs (RFC 4314) read on the source and written on
// the destination, under the names `arrival migrate` gives the folders (engine/mail/public_plan: plan_scope, so
// personal folders, the --public job's shared folders, special-use renames and the destination profile's
// name rules all agree with migrate).
//
// Per folder: GETACL on both sides; each source grant is mapped (engine/shares/grant_plan.hpp: identifiers
// through the accounts file and --map-domain, rights never widened); a grant the destination already holds
// is `unchanged`, one it lacks is written with SETACL "+letters" (`added`; listed only under --dry-run), one
// it cannot hold at all is `refused` with the reason. LISTRIGHTS is asked only for grants to be written. A
// rerun therefore writes nothing. A folder the destination does not have yet (migrate has not run) is
// reported, not created. Errors carry the account, the folder and the server's words; a failed account never
// stops the others (--jobs accounts at once, each on its own pair of connections).
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/account_list.hpp"
#include "engine/mail/account_job.hpp"
#include "engine/mail/async_session.hpp"

namespace arrival::shares {

struct shares_options {
    engine::job_options job;                       // endpoints, logins, --dest-profile, --include/--exclude, dry_run
    std::map<std::string, std::string> domains;    // --map-domain old=new (lower-case keys)
    std::size_t jobs = 4;
};

enum class grant_status { added, unchanged, refused, skipped, failed };
[[nodiscard]] std::string_view to_string(grant_status s) noexcept;

struct grant_result {
    std::string identifier;        // as on the source
    std::string dest_identifier;   // as written on the destination ("" when skipped)
    std::string rights;            // the source's rights, as sent
    std::string granted;           // the letters the destination holds for it after the run (normalised)
    std::string refused;           // source letters not granted
    std::string why;               // why refused / skipped / failed (the server's words for failed)
    std::string note;              // identifier mapping, when it changed
    grant_status status = grant_status::unchanged;
};

struct folder_result {
    std::string source;            // source folder name (UTF-8)
    std::string dest;              // destination folder name
    std::vector<grant_result> grants;
    std::string error;             // the folder could not be handled: account, folder and the server's words
};

struct account_result {
    std::string source_user;
    std::string dest_user;
    bool shared_scope = false;     // the --public job
    std::vector<folder_result> folders;
    std::string error;             // the account failed as a whole
    std::optional<engine::error_kind> kind;
    std::size_t added = 0, unchanged = 0, refused = 0, failed = 0;
    [[nodiscard]] bool ok() const noexcept { return error.empty() && failed == 0; }
};

// Runs every account (o.jobs at once); one result per account, in order.
[[nodiscard]] std::vector<account_result> run_shares(const shares_options& o, const std::vector<engine::account_pair>& accounts);

[[nodiscard]] nlohmann::json shares_report_json(const std::string& source, const std::string& dest, bool dry_run,
                                                const std::vector<account_result>& results);

}  // namespace arrival::shares
