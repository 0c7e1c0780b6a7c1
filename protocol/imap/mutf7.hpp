// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), both ways.
//
// Printable US-ASCII (0x20-0x7e) stands for itself except "&", which is written "&-". Everything else is
// UTF-16 (surrogate pairs for non-BMP) in modified BASE64 ("," instead of "/", no padding) between "&" and "-".
// The decoder is strict, as Dovecot's is, because two spellings of one name would make two folders:
// it rejects bad base64 characters, a missing "-", an encoded run that decodes to printable ASCII (which must
// be written as itself), an encoded "&" ("&-" is the only spelling), empty shifts "&-" used wrongly, two
// adjacent encoded runs (one run is minimal), leftover non-zero padding bits, unpaired or reversed surrogates,
// and raw 8-bit or control characters. The encoder rejects invalid UTF-8 (overlong forms, surrogates, values
// above U+10FFFF, truncation).
#pragma once
#include <string>
#include <string_view>

#include "protocol/imap/errc.hpp"

namespace arrival::imap {

class diagnostics;

// UTF-8 -> modified UTF-7. errc::bad_utf8 on invalid input (diag, if given, says where and why).
[[nodiscard]] error_code encode_mutf7(std::string_view utf8, std::string& out, diagnostics* diag = nullptr);
// modified UTF-7 -> UTF-8. errc::bad_mutf7 on invalid input.
[[nodiscard]] error_code decode_mutf7(std::string_view mutf7, std::string& out, diagnostics* diag = nullptr);

}  // namespace arrival::imap
