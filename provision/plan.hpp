// Building the provisioning plan from the inputs, in a fixed order (each step documented where it lives):
//   1. read LDIF files and DL CSVs (syntax errors with file:line); with a schema, attribute names become
//      its primary names (`surname` -> `sn`, schema_filter.hpp: compared as the destination answers); apply change records to the entries the
//      input carries (changes.hpp), so every later step sees their end state
//   2. convert generic inetOrgPerson/posixAccount/groupOfNames sources (source_convert.hpp)
//   3. leave out the old servers' own entries (rewrite_rules.hpp: skip_server_entries)
//   4. --rename-domain, then the attribute rules
//   5. add Carbonio's base entries missing from the input (directory_model::add_base_entries)
//   6. drop what the destination's schema lacks, counting it (schema_filter.hpp)
//   7. online: read from the destination the entries that the remaining change records target, and apply
//      those changes to them (offline, --emit refuses such changes: slapadd takes whole entries)
//   8. order parents before children, then validate everything (validator.hpp)
// Nothing here writes anywhere; the caller decides (online writer, --emit, --check).
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"
#include "provision/rewrite_rules.hpp"
#include "provision/schema.hpp"
#include "provision/schema_filter.hpp"
#include "provision/source_convert.hpp"
#include "provision/validator.hpp"

namespace arrival::provision {

struct plan_options {
    std::vector<std::string> ldif_files;
    std::vector<std::string> dl_csv_files;
    std::vector<domain_rename> renames;
    rewrite_rules rules;
    bool keep_server_entries = false;
    bool add_base_entries = true;
    const schema* destination_schema = nullptr;  // drop-and-report and required attributes; none: built-in table
    const destination_index* existing = nullptr;
    // Online: reads one entry (all user attributes) from the destination; false when it is absent.
    std::function<bool(const std::string& dn, entry& out)> fetch_entry;
    bool emit = false;  // --emit: a change to an entry the input does not carry is an error
};

struct plan_result {
    directory_model model;
    std::vector<problem> problems;
    filter_result dropped;
    convert_result converted;
    std::size_t records_read = 0, skipped_server = 0, renamed = 0, rewritten = 0, base_added = 0;
    std::size_t changes_read = 0, changes_applied = 0, fetched = 0, aliases_rewritten = 0;
    std::map<std::string, std::size_t> kinds;  // entry_kind name -> count, after all steps
    bool ok() const { return !has_errors(problems); }
};

void build_plan(const plan_options& opts, plan_result& out);

// One shard's part of a validated plan (`arrival provision --shard K/N`): the accounts whose source address (as
// the accounts file names it) `owns_account` accepts, with the entries under them (signatures, identities,
// data sources); and, when `owns_shared`, everything that is no one account's: the base tree, domains, COSes,
// aliases, lists, and the change records and deletes aimed at the destination. Every other entry leaves the
// model and `kinds` is counted anew. Returns how many entries left.
std::size_t keep_shard_entries(plan_result& plan, const std::function<bool(const std::string& source_address)>& owns_account,
                               bool owns_shared);

}  // namespace arrival::provision
