// IMAP ACL extension (RFC 4314), sans-I/O: the five commands encoded, the three untagged responses decoded.
//
//   getacl     = "GETACL" SP mailbox                    -> "ACL" SP mailbox *(SP identifier SP rights)
//   setacl     = "SETACL" SP mailbox SP identifier SP mod-rights
//   deleteacl  = "DELETEACL" SP mailbox SP identifier
//   myrights   = "MYRIGHTS" SP mailbox                  -> "MYRIGHTS" SP mailbox SP rights
//   listrights = "LISTRIGHTS" SP mailbox SP identifier  -> "LISTRIGHTS" SP mailbox SP identifier
//                                                          SP rights *(SP rights)
// identifier and rights are astrings (§3.x: "identifier = astring", "rights = astring", mod-rights = astring
// that may start with "+" or "-"). An identifier starting with "-" is a negative right (§2).
//
// Rights letters (§2.1): l r s w i p k x t e a, plus digits and other letters a server may define. The RFC 2086
// rights "c" and "d" are obsolete (§2.1.1): a server may still list them, alone or beside the letters they stand
// for, and its "c"/"d" mean one of two unions depending on the server ("c" = k+x or k; "d" = e+t or e+t+x).
// normalize_rights() turns a rights string into the RFC 4314 letters only: where the server also lists the
// new letters, "c"/"d" add nothing; where it lists only the old ones, "c" becomes "k" and "d" becomes "et",
// the part both readings agree on, so a right is never widened by the translation.
//
// Mailbox names here are UTF-8 (encoded to modified UTF-7 like every other mailbox argument); decoded names
// are returned raw (modified UTF-7) as in list_decoder.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/command_encoder.hpp"
#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/imap/response.hpp"

namespace arrival::imap {

[[nodiscard]] error_code encode_getacl(std::string_view mailbox, const encoder_options& o, command& out,
                                       diagnostics* diag = nullptr);
// mod_rights: "lr" replaces the identifier's rights; "+lr" adds, "-lr" removes (§3.1).
[[nodiscard]] error_code encode_setacl(std::string_view mailbox, std::string_view identifier, std::string_view mod_rights,
                                       const encoder_options& o, command& out, diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_deleteacl(std::string_view mailbox, std::string_view identifier, const encoder_options& o,
                                          command& out, diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_myrights(std::string_view mailbox, const encoder_options& o, command& out,
                                         diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_listrights(std::string_view mailbox, std::string_view identifier, const encoder_options& o,
                                           command& out, diagnostics* diag = nullptr);

struct acl_entry {
    std::string_view identifier;   // as sent ("anyone", "user@example.test", "$team", "-bob")
    std::string_view rights;       // as sent ("lrswipkxtecda"); normalize_rights() for comparisons
};
struct acl_data {
    std::string_view mailbox;      // raw; "INBOX" normalised
    std::vector<acl_entry> entries;
};
[[nodiscard]] error_code decode_acl(const response& r, acl_data& out);

struct myrights_data {
    std::string_view mailbox;
    std::string_view rights;
};
[[nodiscard]] error_code decode_myrights(const response& r, myrights_data& out);

struct listrights_data {
    std::string_view mailbox;
    std::string_view identifier;
    std::string_view required;             // granted always (may be empty)
    std::vector<std::string_view> optional;  // each a set of letters granted or refused together
};
[[nodiscard]] error_code decode_listrights(const response& r, listrights_data& out);

// The RFC 4314 letters of `rights`, obsolete c/d translated as above, each once, in the order "lrswipkxtea"
// followed by any other letters or digits in the order first seen.
[[nodiscard]] std::string normalize_rights(std::string_view rights);

}  // namespace arrival::imap
