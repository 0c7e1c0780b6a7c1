// Which flags a copied message carries on the destination.
//
// Rule (documented in doc/migrate.md, "What is copied"):
//  - \Recent is dropped: it is session state the server sets itself (RFC 3501 §2.3.2), not a stored flag.
//  - System flags \Seen \Answered \Flagged \Deleted \Draft are kept as they are.
//  - Any other \-flag (an unknown system-flag extension) is dropped and reported.
//  - A keyword is kept unchanged when it is a portable atom: only letters, digits and "$ _ - . +" — the
//    characters every server we know accepts. Otherwise it is rewritten:
//      * Zimbra's tag export "Name:FLAG51135" becomes "Name" (the part before ":FLAG<digits>"),
//      * then every character outside that set becomes '_';
//    an empty result is dropped. A rewritten keyword is reported with its old and new spelling.
//  - Under the carbonio profile (engine/mail/dest_profile.hpp; FACTS.md §6, ImapRequest.readFlags, Tag.validateItemName)
//    a keyword is sent unchanged only when it is an atom of printable ASCII without ( ) { % * " \ ] and
//    without ':', of at most 255 characters; the keywords Carbonio maps onto its own flags ($Forwarded, Forwarded, $MDNSent, $Junk, Junk,
//    $NotJunk, NotJunk, NonJunk, JunkRecorded: ImapFlagCache) are such atoms and keep their meaning. Zimbra's
//    "Name:FLAG<n>" becomes "Name" when that is such an atom; anything else is dropped, never rewritten.
//  - A keyword (after rewriting) that the destination folder does not allow — its PERMANENTFLAGS lacks \*
//    and does not list the keyword — is dropped and reported. Dropping a keyword never fails the message.
//  - Under the cyrus profile a folder holds at most 100 keywords made over IMAP: Cyrus 3.6 has 128 user-flag
//    slots per mailbox, and imapd refuses to fill a slot from the 101st on (mailbox.c, mailbox_user_flag:
//    "stop imapd exhausting flags"), answering NO "Too many user flags in mailbox" to the whole APPEND or
//    STORE. Its PERMANENTFLAGS (SELECT) or FLAGS (EXAMINE) list the keywords the folder has, with \* even
//    when it is full; keywords match without case. So a keyword the folder does not have yet is taken while
//    the folder has fewer than 100 (counting those the copy gave it, in source UID order), and dropped and
//    reported otherwise. Migrate, verify and reruns decide alike: after the copy the folder lists exactly
//    the keywords that were taken.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/dest_profile_kind.hpp"

namespace arrival::engine {

struct flag_change {
    std::string from;
    std::string to;   // empty: dropped
    std::string reason;
};

// Cyrus: keywords a folder can get over IMAP (flag_map's rule above), and why a keyword beyond them is dropped.
inline constexpr std::size_t cyrus_max_folder_keywords = 100;
inline constexpr std::string_view cyrus_keyword_limit_reason =
    "the destination folder has the 100 keywords Cyrus allows a folder over IMAP (\"Too many user flags in mailbox\")";

// What a destination folder accepts, from its SELECT/EXAMINE PERMANENTFLAGS, and under the cyrus profile how
// many more keywords it can get.
class permanent_flags {
public:
    permanent_flags() = default;   // unknown: assume any keyword (the server will say otherwise)
    // `flags`: PERMANENTFLAGS as sent. Under cyrus the keywords among them (or among `defined`, the FLAGS
    // list, when PERMANENTFLAGS is empty: EXAMINE) are the folder's, which its keyword limit counts.
    explicit permanent_flags(const std::vector<std::string>& flags, dest_profile_kind profile = dest_profile_kind::generic,
                             const std::vector<std::string>& defined = {});
    [[nodiscard]] bool allows_keyword(std::string_view keyword) const { return refusal(keyword, 0).empty(); }
    // Why the folder would not take `keyword` ("" when it would), `pending` new keywords (ones it does not
    // have) being taken before it by the same message.
    [[nodiscard]] std::string_view refusal(std::string_view keyword, std::size_t pending) const;
    // Whether the folder has the keyword already (listed, or noted since).
    [[nodiscard]] bool has_keyword(std::string_view keyword) const;
    // A copy gave the folder these flags: its keywords count against the limit from now on.
    void note_sent(const std::vector<std::string>& flags);

private:
    bool any_keyword_ = true;
    std::vector<std::string> keywords_;
    std::optional<std::size_t> keyword_limit_;   // cyrus: at most this many keywords in the folder
};

[[nodiscard]] bool is_portable_keyword(std::string_view keyword) noexcept;
// The keyword after the rewrite rule ("" when nothing is left); equal to the input when portable.
[[nodiscard]] std::string rewrite_keyword(std::string_view keyword);
// Whether Carbonio takes the keyword as it is (an atom it accepts and a valid tag name).
[[nodiscard]] bool is_carbonio_keyword(std::string_view keyword) noexcept;
// "Name" of Zimbra's "Name:FLAG<digits>" tag export; the keyword itself otherwise.
[[nodiscard]] std::string_view strip_zimbra_tag_suffix(std::string_view keyword) noexcept;

// Maps a source message's flags under the profile's keyword rule; appends to `changes` each rewritten or
// dropped flag (not \Recent).
[[nodiscard]] std::vector<std::string> map_flags(const std::vector<std::string>& source_flags, const permanent_flags& dest,
                                                 std::vector<flag_change>& changes,
                                                 dest_profile_kind profile = dest_profile_kind::generic);

}  // namespace arrival::engine
