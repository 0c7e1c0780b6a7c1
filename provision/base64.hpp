// RFC 4648 base64 (standard alphabet, padded) for LDIF `::` values and for writing unsafe values back.
#pragma once
#include <string>
#include <string_view>

namespace arrival::provision {

// Decodes `in` into `out` (replacing its content). Returns false on a character outside the alphabet, bad
// padding or a length that is not a multiple of 4; `out` is unspecified then.
[[nodiscard]] bool base64_decode(std::string_view in, std::string& out);

// Appends the padded encoding of `in` to `out`.
void base64_encode(std::string_view in, std::string& out);

}  // namespace arrival::provision
