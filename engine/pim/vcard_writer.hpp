// contact -> vCard text for CardDAV: 3.0 (RFC 2426; what every CardDAV server must accept, RFC 6352 §6.2.2)
// or 4.0 (RFC 6350) when the address book advertises only 4.0. Lines folded at 75 octets without splitting
// a UTF-8 sequence; text values escaped (\\ \, \; \n).
#pragma once
#include <string>
#include <string_view>

#include "engine/pim/contact.hpp"

namespace arrival::pim {

enum class vcard_version { v3, v4 };

// `uid` is normally contact::stable_uid().
[[nodiscard]] std::string write_vcard(const contact& c, std::string_view uid, vcard_version version);

// Escapes a TEXT value (RFC 6350 §3.4).
[[nodiscard]] std::string escape_vcard_text(std::string_view v);

// Folds one logical line (without CRLF) into CRLF-terminated physical lines of at most 75 octets.
[[nodiscard]] std::string fold_line(std::string_view line);

}  // namespace arrival::pim
