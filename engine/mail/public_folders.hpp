// Folders outside a user's personal namespace (RFC 2342): the shared/public namespace ("Public/" on Dovecot,
// "shared." on Cyrus, "#public/" elsewhere), which belongs to no user, and other users' namespaces
// ("#users/", "Other Users/"), which belong to their owners.
//
// A private (per-account) plan never takes them: otherwise every account job would copy the same public
// folders once more, and each user's job would copy the mailboxes other users share with it. The public
// namespace is migrated once, when asked (`arrival migrate --public`), by one job acting as one account:
// its folders keep their hierarchy relative to the namespace prefix and land under the destination's own
// shared prefix, with the destination's delimiter. Names are UTF-8, as in engine/mail/folder_map.hpp.
//
// Rules of the public plan (on top of folder_map's):
//  - Only source folders the classifier puts in the source's first shared namespace are taken
//    (engine/mail/namespace_map.hpp: longest prefix wins, so an empty shared prefix holds every name that no
//    personal or other-users prefix claims, as on Cyrus's classic namespace); the prefix's own root ("Public"
//    for "Public/", listed \Noselect by Dovecot) is neither copied nor created.
//  - --include/--exclude see the relative path: "Projects/2024", not "Public/Projects/2024".
//  - No SPECIAL-USE mapping: a public "Trash" stays a public "Trash", it never lands in anyone's \Trash.
//  - A relative name "INBOX" is compared case-insensitively, as folder_map does everywhere ("Public/inbox"
//    arrives as "Public/INBOX").
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/folder_map.hpp"
#include "engine/mail/namespace_map.hpp"

namespace arrival::engine {

// Which part of an account's mail a job migrates: its personal namespace (every account), or the
// server's shared/public namespace (one job per run, with --public).
enum class folder_scope { personal, shared };

[[nodiscard]] std::string_view to_string(folder_scope s) noexcept;

// How the admin sees a job in progress rows, the summary table and verify's list: the account's name, and
// "NAME (public)" for the --public job, which logs in as a listed account and runs beside that account's
// own job (two jobs of one name would otherwise share one row).
[[nodiscard]] std::string job_label(std::string_view user, folder_scope s);

// The plan for the first shared namespace: source folders in it onto the destination's first shared
// namespace (its prefix, empty or not, and its delimiter), parents first, missing ones created. `dest` may
// hold the destination's whole LIST; only entries in its shared namespace are considered. Entries carry
// full names on both sides. A side without a shared namespace is an error in the plan.
[[nodiscard]] folder_plan plan_public_folders(const std::vector<mailbox_entry>& source, const namespace_map& source_ns,
                                              const std::vector<mailbox_entry>& dest, const namespace_map& dest_ns,
                                              const folder_filter& filter);

}  // namespace arrival::engine
