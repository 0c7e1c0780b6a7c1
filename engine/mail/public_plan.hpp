// The folder plan of one job against its live sessions, for either scope (engine/mail/public_folders.hpp):
//
//   personal  the account's own folders: the LIST entries the classifier (engine/mail/namespace_map.hpp) puts in
//             the personal namespace. Shared folders are copied once, by the shared job, never once per
//             account; other users' folders ("user.bob.*", "#users/bob/...") are listed in the plan's
//             other_users, since bob's own job copies them.
//   shared    the source's shared/public namespace onto the destination's, relative hierarchy kept, whatever
//             its prefix (an empty one included)
//
// The account job, verify, preflight, shares and the rerun check all plan through here, so the three agree on which folders
// belong to a job. Throws std::runtime_error (the job's entry fails with it, the other accounts go on) when
// the shared scope has nothing to map: no shared namespace on the source, or none on the destination.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "engine/account_list.hpp"
#include "engine/mail/folder_map.hpp"
#include "engine/mail/async_session.hpp"
#include "engine/mail/public_folders.hpp"

namespace arrival::engine {

// What planning reads of one side: its namespaces (RFC 2342) and its LIST, read once per job.
struct side_view {
    folder_namespace personal;
    std::vector<folder_namespace> shared;
    std::vector<folder_namespace> other_users;
    std::vector<mailbox_entry> boxes;
    dest_profile_kind profile = dest_profile_kind::generic;
};

// Reads a side's view: NAMESPACE (once per session), then LIST.
[[nodiscard]] boost::asio::awaitable<side_view> read_side(async_session& s);

// `dest` null: only the source side is planned (which folders the job would take; the destination is
// treated as empty, its namespace as the source's), as the rerun check needs.
[[nodiscard]] folder_plan plan_scope(const side_view& source, const side_view* dest, const folder_filter& filter, folder_scope scope);

// The personal plan onto a destination known only by its namespace and profile, whose folders are not read
// (arrival preflight: what the names become, not what exists already).
[[nodiscard]] folder_plan plan_personal_onto(const side_view& source, const folder_namespace& dest_ns, dest_profile_kind profile,
                                             const folder_filter& filter);

// The account pair of the run's --public job (scope shared): `acting` as listed in `accounts` (its hosts and
// passwords), the first listed account when `acting` is empty, or an unlisted `acting` on both sides when
// the run has a password that does not depend on the account (an admin's, or the one every user shares).
// Throws std::invalid_argument saying what is missing.
[[nodiscard]] account_pair public_job_account(const std::vector<account_pair>& accounts, const std::string& acting,
                                              bool has_run_wide_passwords);

}  // namespace arrival::engine
