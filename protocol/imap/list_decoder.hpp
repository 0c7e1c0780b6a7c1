// LIST / LSUB responses (RFC 3501 §7.2.2-3, RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE).
//
//   mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
//                  [SP "(" mbox-list-extended ")"]                 ; RFC 5258 (CHILDINFO, OLDNAME): skipped
// The name is returned as sent (modified UTF-7 unless UTF8=ACCEPT was enabled); "INBOX" in any case is
// normalised to "INBOX" (RFC 3501 §5.1). decode_mutf7() turns it into UTF-8.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/imap/errc.hpp"
#include "protocol/imap/response.hpp"

namespace arrival::imap {

enum class special_use : std::uint8_t { none, all, archive, drafts, flagged, junk, sent, trash, important };

[[nodiscard]] special_use special_use_of(std::string_view attribute) noexcept;  // "\Sent" -> sent (any case)
[[nodiscard]] std::string_view to_string(special_use u) noexcept;               // sent -> "\Sent"

struct list_entry {
    bool lsub = false;
    std::vector<std::string_view> attributes;  // as sent, e.g. "\HasNoChildren", "\Sent"
    std::optional<char> delimiter;             // nullopt for NIL (flat namespace)
    std::string_view name;                     // raw (modified UTF-7) mailbox name; "INBOX" normalised
    // Derived from attributes:
    special_use use = special_use::none;       // the first SPECIAL-USE attribute
    bool noselect = false;                     // \Noselect or \NonExistent
    bool noinferiors = false;
    bool subscribed = false;                   // \Subscribed (LIST-EXTENDED), or any LSUB entry
    bool nonexistent = false;
    bool has_children = false, has_no_children = false;

    void clear() noexcept;
};

// r must be a LIST or LSUB response. Views point into r (valid during the handler call).
[[nodiscard]] error_code decode_list(const response& r, list_entry& out);

}  // namespace arrival::imap
