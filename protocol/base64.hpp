// RFC 4648 base64, standard alphabet, padded: SASL PLAIN, HTTP Basic authorization, LDIF `::` values,
// Carbonio Files' Filename header. Decoding is strict: a character outside the alphabet, padding anywhere but
// the last two places of the last quantum, a length that is not a multiple of 4 and non-zero bits left over
// before the padding (a non-canonical encoding, RFC 4648 §3.5) are all errors.
// Header-only, std only: every library and the fuzz build use it.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace arrival::base64 {
namespace detail {
inline constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_values() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
inline constexpr auto values = make_values();
}  // namespace detail

// Appends the padded encoding of `in` to `out`.
inline void append_encoded(std::string_view in, std::string& out) {
    using detail::alphabet;
    out.reserve(out.size() + (in.size() + 2) / 3 * 4);
    const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
}

[[nodiscard]] inline std::string encode(std::string_view in) {
    std::string out;
    append_encoded(in, out);
    return out;
}

// Decodes `in` into `out` (replacing its content) and returns true; on an error returns false and leaves
// `out` as it was.
[[nodiscard]] inline bool decode(std::string_view in, std::string& out) {
    if (in.size() % 4 != 0) return false;
    std::string r;
    r.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int pad = 0;
        std::uint32_t n = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = in[i + k];
            if (c == '=' && last && k >= 2) {
                ++pad;
                n <<= 6;
                continue;
            }
            if (pad != 0) return false;   // data after padding, or '=' too early
            const auto v = detail::values[static_cast<unsigned char>(c)];
            if (v < 0) return false;
            n = (n << 6) | static_cast<std::uint32_t>(v);
        }
        if ((pad == 1 && (n & 0xFF) != 0) || (pad == 2 && (n & 0xFFFF) != 0)) return false;
        r += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2) r += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1) r += static_cast<char>(n & 0xFF);
    }
    out = std::move(r);
    return true;
}

}  // namespace arrival::base64
