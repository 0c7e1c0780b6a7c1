// RFC 3501 `number` (unsigned 32-bit) and RFC 4551/9051 `number64` as they appear in responses:
// decimal digits only, no sign or spaces, overflow rejected. Shared by the response-code, FETCH and
// data decoders.
#pragma once
#include <cstdint>
#include <string_view>

namespace arrival::imap::detail {

[[nodiscard]] inline bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20) return false;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const std::uint64_t d = static_cast<unsigned>(c - '0');
        if (n > (~std::uint64_t{0} - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

[[nodiscard]] inline bool parse_u32(std::string_view s, std::uint32_t& out) noexcept {
    std::uint64_t n = 0;
    if (!parse_u64(s, n) || n > 0xFFFFFFFFu) return false;
    out = static_cast<std::uint32_t>(n);
    return true;
}

}  // namespace arrival::imap::detail
