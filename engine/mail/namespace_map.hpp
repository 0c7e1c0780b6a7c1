// Which namespace a mailbox name lies in (RFC 2342): the one classifier every plan, verify, rerun check and
// preflight count goes through, so they agree on which folders belong to which job.
//
// A server announces three groups of namespaces, each a prefix and a hierarchy delimiter:
//   personal     the user's own folders ("" on Dovecot, "INBOX." on Cyrus's classic namespace)
//   other users  folders other users share with this one ("Other Users/", "user.", "#users/")
//   shared       folders that belong to no user ("Public/", "Shared Folders/", "shared." — or "" on Cyrus's
//                classic namespace, where shared folders sit at the top level beside "INBOX." and "user.")
//
// Rules:
//  - A name lies in a namespace when it starts with its prefix, or is the prefix's root (the prefix without
//    its trailing delimiter: "user" for "user.", listed \Noselect by some servers). An empty prefix holds
//    every name.
//  - The longest matching prefix wins (RFC 2342 §4), so with personal "INBOX." and shared "" the name
//    "INBOX.Projects" is personal and "Projects" shared. On a tie the shared namespace wins, then other
//    users': one prefix in two groups happens when the login has no personal namespace (Cyrus's admin:
//    NAMESPACE NIL (("user." ".")) (("" ".")), and the session's fallback personal prefix is "").
//  - "INBOX" (any case) is personal, whatever the prefixes (RFC 3501 §5.1).
//  - A server without NAMESPACE has one personal namespace (the caller passes its prefix and delimiter).
// Pure: names are UTF-8, as in engine/mail/folder_map.hpp.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/folder_map.hpp"

namespace arrival::engine {

enum class namespace_kind { personal, other_users, shared };

[[nodiscard]] std::string_view to_string(namespace_kind k) noexcept;

// Where one name lies: the group and the index of the namespace within it.
struct namespace_place {
    namespace_kind kind = namespace_kind::personal;
    std::size_t index = 0;
    bool operator==(const namespace_place&) const = default;
};

class namespace_map {
public:
    // `personal` empty: one personal namespace with an empty prefix and delimiter '/'.
    namespace_map(std::vector<folder_namespace> personal, std::vector<folder_namespace> other_users, std::vector<folder_namespace> shared);

    [[nodiscard]] namespace_place classify(std::string_view name) const;

    [[nodiscard]] const folder_namespace& personal() const { return personal_.front(); }
    [[nodiscard]] const std::vector<folder_namespace>& other_users() const { return other_users_; }
    [[nodiscard]] const std::vector<folder_namespace>& shared() const { return shared_; }
    [[nodiscard]] const folder_namespace& at(namespace_place p) const;

    // The entries of a LIST that lie in namespace `p`, full names kept (roots included).
    [[nodiscard]] std::vector<mailbox_entry> entries_in(const std::vector<mailbox_entry>& entries, namespace_place p) const;
    // The names of the entries in any namespace of group `k`.
    [[nodiscard]] std::vector<std::string> names_in(const std::vector<mailbox_entry>& entries, namespace_kind k) const;

private:
    std::vector<folder_namespace> personal_, other_users_, shared_;
};

// The name relative to the namespace's prefix: "shared.Team.Minutes" -> "Team.Minutes" for "shared.";
// the root itself ("shared") -> "". A name outside `ns` is returned unchanged.
[[nodiscard]] std::string relative_name(std::string_view name, const folder_namespace& ns);

}  // namespace arrival::engine
