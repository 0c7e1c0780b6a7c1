// UTF-8 input (strict) and output, and UTF-16 surrogate arithmetic, shared by the decoders that produce UTF-8 from UTF-16 code
// units: modified UTF-7 mailbox names (protocol/imap/mutf7.cpp) and UTF-16 contact exports
// (engine/pim/text_decode.cpp). Header-only and std-only, so fuzz builds of either have it.
#pragma once
#include <cstdint>
#include <cstddef>
#include <string>
#include <string_view>

namespace arrival::unicode {

constexpr bool is_high_surrogate(std::uint32_t u) noexcept { return u >= 0xD800 && u <= 0xDBFF; }
constexpr bool is_low_surrogate(std::uint32_t u) noexcept { return u >= 0xDC00 && u <= 0xDFFF; }
constexpr bool is_surrogate(std::uint32_t u) noexcept { return u >= 0xD800 && u <= 0xDFFF; }

// The code point of a high/low surrogate pair (the caller has checked both).
constexpr std::uint32_t combine_surrogates(std::uint32_t high, std::uint32_t low) noexcept {
    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
}

// Appends `cp` (at most U+10FFFF, not a surrogate: the callers guarantee it) as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 on error (why set).
inline std::size_t next_utf8(std::string_view s, std::size_t i, std::uint32_t& cp, const char*& why) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        why = "invalid lead byte";
        return 0;
    }
    if (i + n > s.size()) {
        why = "truncated sequence";
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            why = "missing continuation byte";
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min) {
        why = "overlong encoding";
        return 0;
    }
    if (is_surrogate(cp)) {
        why = "UTF-16 surrogate encoded in UTF-8";
        return 0;
    }
    if (cp > 0x10FFFF) {
        why = "code point above U+10FFFF";
        return 0;
    }
    return n;
}

// Whether all of `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
inline bool valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const char* why = nullptr;
        const std::size_t n = next_utf8(s, i, cp, why);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace arrival::unicode
