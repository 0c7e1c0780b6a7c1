// Turns the bytes of an exported file into UTF-8. Contact exports come as UTF-8 (with or without BOM),
// UTF-16 (Outlook's "Unicode" CSV, with BOM, sometimes without) or Windows-1252 (older Outlook and Excel).
#pragma once
#include <string>
#include <string_view>

namespace arrival::pim {

enum class text_encoding { utf8, utf16le, utf16be, windows1252 };

[[nodiscard]] std::string_view to_string(text_encoding e) noexcept;

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// Detects the encoding (BOM first; then NUL patterns for BOM-less UTF-16; then UTF-8 validity, else
// Windows-1252) and returns the text as UTF-8 without BOM. Unpaired UTF-16 surrogates become U+FFFD.
[[nodiscard]] std::string decode_to_utf8(std::string_view bytes, text_encoding& detected);

}  // namespace arrival::pim
