// SASL PLAIN (RFC 4616) for AUTHENTICATE PLAIN (RFC 3501 §6.2.2), with SASL-IR (RFC 4959).
//
//   message = [authzid] UTF8NUL authcid UTF8NUL passwd
// authzid is the user to act as when an administrator logs in for someone else (Dovecot master user: authcid
// is the master, authzid the target). The result is base64 (RFC 4648, with padding), as IMAP sends it.
#pragma once
#include <string>
#include <string_view>

#include "protocol/imap/errc.hpp"

namespace arrival::imap {

// errc::unencodable when any part contains NUL, or authcid/password are empty.
[[nodiscard]] error_code sasl_plain_response(std::string_view authzid, std::string_view authcid,
                                             std::string_view password, std::string& base64_out);

}  // namespace arrival::imap
