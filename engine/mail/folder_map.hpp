// Which source folder lands where on the destination: the plan of folders for one account pair.
//
// Names here are UTF-8 (already decoded from modified UTF-7, RFC 3501 §5.1.3); the account job decodes LIST
// replies and encodes CREATE/SELECT arguments, so this file is pure and tested on values.
//
// Rules, in order:
//  1. Namespace translation. The source's personal-namespace prefix (e.g. "INBOX." on Courier/Cyrus) is
//     stripped, the name is split on the source delimiter and re-joined with the destination's, and the
//     destination's prefix is prepended. INBOX is INBOX on both sides, whatever the case on the source.
//     A destination delimiter inside a source level name (a '/' in "a/b" on a '.' server) would silently
//     create a level, so it is replaced by '_' and the rename is reported.
//  2. SPECIAL-USE (RFC 6154). A source folder marked \Sent \Drafts \Trash \Junk or \Archive — or, when the
//     source marks none of that kind, a top-level folder with a common name for it (Sent, Sent Items, Sent
//     Messages; Drafts; Trash, Deleted Items, Deleted Messages; Junk, Spam, Junk E-mail; Archive, Archives)
//     — goes to the destination folder carrying the same attribute, else to the destination folder with a
//     common name, else keeps its translated name and is created with that attribute (CREATE-SPECIAL-USE,
//     RFC 6154 §3, when the destination offers it). Its subfolders follow it.
//  3. Selection. --include / --exclude are ECMAScript regexes searched in the folder's path as the user
//     sees it: levels joined by '/', without the personal prefix (e.g. "INBOX", "Archive/2019"). A folder is
//     taken when it matches some include (or there are none) and no exclude.
//  4. Creation. Every destination folder that does not exist is created, parents before children
//     (missing intermediate levels too); \Noselect source folders are created but hold no messages;
//     \NonExistent ones are skipped. Subscriptions are kept.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/dest_profile_kind.hpp"

namespace arrival::engine {

enum class special_use { none, sent, drafts, trash, junk, archive };

[[nodiscard]] std::string_view to_string(special_use s) noexcept;
// "\Sent" -> sent (case-insensitive); anything else -> none.
[[nodiscard]] special_use special_use_from_attribute(std::string_view attr) noexcept;

// One LIST entry of either side, already decoded.
struct mailbox_entry {
    std::string name;                      // full name, UTF-8, as LISTed (with prefix)
    std::vector<std::string> attributes;   // "\Noselect", "\HasChildren", "\Sent", ...
    bool subscribed = false;
};

// A side's personal namespace (RFC 2342): prefix (e.g. "" or "INBOX.") and hierarchy delimiter
// ('\0' when the server reports NIL: a flat namespace).
struct folder_namespace {
    std::string prefix;
    char delimiter = '/';
};

struct folder_plan_entry {
    std::string source_name;      // empty for a parent we only create
    std::string dest_name;
    std::string path;             // user-visible path ('/'-joined, no prefix), what include/exclude saw
    special_use use = special_use::none;   // the destination folder's special use (created with it when new)
    bool copy_messages = true;    // false for \Noselect sources and created-only parents
    bool create = false;          // the destination does not have it yet
    bool subscribe = false;       // subscribed on the source and not yet on the destination
    std::string note;             // why a name changed (delimiter replaced, special-use mapped), for the report
    bool renamed_by_profile = false;   // the destination profile's name rule changed it (dest_profile.hpp)
};

struct folder_filter {
    std::vector<std::string> include;   // ECMAScript regexes
    std::vector<std::string> exclude;
};

struct folder_plan {
    std::vector<folder_plan_entry> entries;   // creation order: parents before children
    std::vector<std::string> excluded;        // source names left out by the filter
    std::vector<std::string> errors;          // e.g. two source folders mapping onto one destination name
    std::vector<std::string> other_users;     // source folders in other users' namespaces: their owners' jobs copy them
};

// Validates the patterns; throws std::invalid_argument naming the bad one.
void check_folder_filter(const folder_filter& filter);

// map_special_use = false skips rule 2 (engine/mail/public_folders.hpp: public folders are nobody's \Sent).
// `profile`: the destination's name rule (engine/mail/dest_profile.hpp: adapt_folder_paths), applied to every
// destination path before rule 4; each rename is in the entry's note.
[[nodiscard]] folder_plan plan_folders(const std::vector<mailbox_entry>& source, const folder_namespace& source_ns,
                                       const std::vector<mailbox_entry>& dest, const folder_namespace& dest_ns,
                                       const folder_filter& filter, bool map_special_use = true,
                                       dest_profile_kind profile = dest_profile_kind::generic);

// Helpers, exposed for testing: the source name split into levels without the prefix, and the join.
[[nodiscard]] std::vector<std::string> split_levels(std::string_view name, const folder_namespace& ns);
[[nodiscard]] std::string join_levels(const std::vector<std::string>& levels, const folder_namespace& ns);

}  // namespace arrival::engine
