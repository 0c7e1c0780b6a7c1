#include "engine/pim/text_decode.hpp"

#include <cstdint>

#include "protocol/unicode.hpp"

namespace arrival::pim {
namespace {

using unicode::append_utf8;

// Windows-1252 0x80..0x9F (the rest of the upper half is Latin-1); 0 marks the five undefined bytes, which
// are mapped to the C1 control of the same value, as browsers and iconv do.
constexpr std::uint16_t cp1252_high[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E,
    0x0178,
};

std::string decode_utf16(std::string_view b, bool little) {
    std::string out;
    out.reserve(b.size());
    auto unit = [&](std::size_t i) -> std::uint32_t {
        const auto lo = static_cast<unsigned char>(b[i + (little ? 0 : 1)]);
        const auto hi = static_cast<unsigned char>(b[i + (little ? 1 : 0)]);
        return (std::uint32_t(hi) << 8) | lo;
    };
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) {
        std::uint32_t u = unit(i);
        if (unicode::is_high_surrogate(u) && i + 3 < b.size()) {
            const std::uint32_t v = unit(i + 2);
            if (unicode::is_low_surrogate(v)) {
                append_utf8(out, unicode::combine_surrogates(u, v));
                i += 2;
                continue;
            }
        }
        if (unicode::is_surrogate(u)) u = 0xFFFD;
        append_utf8(out, u);
    }
    if (i < b.size()) append_utf8(out, 0xFFFD);  // odd trailing byte
    return out;
}

}  // namespace

std::string_view to_string(text_encoding e) noexcept {
    switch (e) {
        case text_encoding::utf8: return "UTF-8";
        case text_encoding::utf16le: return "UTF-16LE";
        case text_encoding::utf16be: return "UTF-16BE";
        case text_encoding::windows1252: return "Windows-1252";
    }
    return "?";
}

bool is_valid_utf8(std::string_view s) noexcept {
    std::uint32_t cp = 0;
    const char* why = nullptr;
    for (std::size_t i = 0; i < s.size();) {
        const auto n = unicode::next_utf8(s, i, cp, why);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string decode_to_utf8(std::string_view b, text_encoding& detected) {
    if (b.substr(0, 3) == "\xEF\xBB\xBF") {
        detected = text_encoding::utf8;
        b.remove_prefix(3);
        // A BOM promises UTF-8; if the rest is not, it was added by a tool to Windows-1252 text.
        if (is_valid_utf8(b)) return std::string(b);
    } else if (b.substr(0, 2) == "\xFF\xFE") {
        detected = text_encoding::utf16le;
        return decode_utf16(b.substr(2), true);
    } else if (b.substr(0, 2) == "\xFE\xFF") {
        detected = text_encoding::utf16be;
        return decode_utf16(b.substr(2), false);
    } else {
        // BOM-less UTF-16: ASCII-heavy text has a NUL in every other byte. Count over the first bytes.
        std::size_t even = 0, odd = 0;
        const std::size_t n = b.size() < 4096 ? b.size() : 4096;
        for (std::size_t i = 0; i < n; ++i) {
            if (b[i] == '\0') ++(i % 2 ? odd : even);
        }
        if (n >= 4 && odd * 3 > n) {
            detected = text_encoding::utf16le;
            return decode_utf16(b, true);
        }
        if (n >= 4 && even * 3 > n) {
            detected = text_encoding::utf16be;
            return decode_utf16(b, false);
        }
        if (is_valid_utf8(b)) {
            detected = text_encoding::utf8;
            return std::string(b);
        }
    }
    detected = text_encoding::windows1252;
    std::string out;
    out.reserve(b.size() + b.size() / 8);
    for (char ch : b) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x80 && c <= 0x9F && cp1252_high[c - 0x80] != 0) {
            append_utf8(out, cp1252_high[c - 0x80]);
        } else {
            append_utf8(out, c);
        }
    }
    return out;
}

}  // namespace arrival::pim
