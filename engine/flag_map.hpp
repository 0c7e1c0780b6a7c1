// Which flags a copied message carries on the destination.
//
// Rule (documented in README "Mail migration"):
//  - \Recent is dropped: it is session state the server sets itself (RFC 3501 §2.3.2), not a stored flag.
//  - System flags \Seen \Answered \Flagged \Deleted \Draft are kept as they are.
//  - Any other \-flag (an unknown system-flag extension) is dropped and reported.
//  - A keyword is kept unchanged when it is a portable atom: only letters, digits and "$ _ - . +" — the
//    characters every server we know accepts. Otherwise it is rewritten:
//      * Zimbra's tag export "Name:FLAG51135" becomes "Name" (the part before ":FLAG<digits>"),
//      * then every character outside that set becomes '_';
//    an empty result is dropped. A rewritten keyword is reported with its old and new spelling.
//  - A keyword (after rewriting) that the destination folder does not allow — its PERMANENTFLAGS lacks \*
//    and does not list the keyword — is dropped and reported. Dropping a keyword never fails the message.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace arrival::engine {

struct flag_change {
    std::string from;
    std::string to;   // empty: dropped
    std::string reason;
};

// What a destination folder accepts, from its SELECT/EXAMINE PERMANENTFLAGS.
class permanent_flags {
public:
    permanent_flags() = default;   // unknown: assume any keyword (the server will say otherwise)
    explicit permanent_flags(const std::vector<std::string>& flags);
    [[nodiscard]] bool allows_keyword(std::string_view keyword) const;

private:
    bool any_keyword_ = true;
    std::vector<std::string> keywords_;
};

[[nodiscard]] bool is_portable_keyword(std::string_view keyword) noexcept;
// The keyword after the rewrite rule ("" when nothing is left); equal to the input when portable.
[[nodiscard]] std::string rewrite_keyword(std::string_view keyword);

// Maps a source message's flags; appends to `changes` each rewritten or dropped flag (not \Recent).
[[nodiscard]] std::vector<std::string> map_flags(const std::vector<std::string>& source_flags, const permanent_flags& dest,
                                                 std::vector<flag_change>& changes);

}  // namespace arrival::engine
