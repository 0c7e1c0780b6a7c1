// Folders outside a user's personal namespace (RFC 2342): the shared/public namespace ("Public/" on Dovecot,
// "shared." on Cyrus, "#public/" elsewhere), which belongs to no user, and other users' namespaces
// ("#users/", "Other Users/"), which belong to their owners.
//
// A private (per-account) plan never takes them: otherwise every account job would copy the same public
// folders once more, and each user's job would copy the mailboxes other users share with it. The public
// namespace is migrated once, when asked (`arrival migrate --public`), by one job acting as one account:
// its folders keep their hierarchy relative to the namespace prefix and land under the destination's own
// shared prefix, with the destination's delimiter. Names are UTF-8, as in engine/folder_map.hpp.
//
// Rules of the public plan (on top of folder_map's):
//  - Only source folders inside the source's shared prefix are taken; the prefix's own root ("Public" for
//    "Public/", listed \Noselect by Dovecot) is neither copied nor created.
//  - --include/--exclude see the relative path: "Projects/2024", not "Public/Projects/2024".
//  - No SPECIAL-USE mapping: a public "Trash" stays a public "Trash", it never lands in anyone's \Trash.
//  - A relative name "INBOX" is compared case-insensitively, as folder_map does everywhere ("Public/inbox"
//    arrives as "Public/INBOX").
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/folder_map.hpp"

namespace arrival::engine {

// Which part of an account's mail a job migrates: its personal namespace (every account), or the
// server's shared/public namespace (one job per run, with --public).
enum class folder_scope { personal, shared };

[[nodiscard]] std::string_view to_string(folder_scope s) noexcept;

// How the admin sees a job in progress rows, the summary table and verify's list: the account's name, and
// "NAME (public)" for the --public job, which logs in as a listed account and runs beside that account's
// own job (two jobs of one name would otherwise share one row).
[[nodiscard]] std::string job_label(std::string_view user, folder_scope s);

// True when `name` lies in `ns`: it starts with the (non-empty) prefix, or it is the prefix's root (the
// prefix without its trailing delimiter). An empty prefix holds nothing here: it cannot be told apart
// from the personal namespace.
[[nodiscard]] bool in_namespace(std::string_view name, const namespace_info& ns) noexcept;

// The entries of a LIST that lie in none of `others` (the shared and other users' namespaces).
[[nodiscard]] std::vector<mailbox_entry> outside_namespaces(const std::vector<mailbox_entry>& entries,
                                                            const std::vector<namespace_info>& others);

// The plan for one shared namespace: source folders under `source_ns` onto the destination's `dest_ns`
// (its prefix and delimiter), parents first, missing ones created. `dest` may hold the destination's
// whole LIST; only entries under `dest_ns` are considered. Entries carry full names on both sides.
// An empty source prefix is an error in the plan (nothing can be told apart from private folders).
[[nodiscard]] folder_plan plan_public_folders(const std::vector<mailbox_entry>& source, const namespace_info& source_ns,
                                              const std::vector<mailbox_entry>& dest, const namespace_info& dest_ns,
                                              const folder_filter& filter);

}  // namespace arrival::engine
