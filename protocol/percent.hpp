// Percent-encoding (RFC 3986 §2.1) of URL path segments: WebDAV targets, Carbonio REST paths.
// encode_segment keeps the unreserved characters and the rest of pchar (sub-delims, ':' and '@', so
// user@example.test stays readable) and encodes every other byte as %XX (upper-case hex, §2.1). decode
// turns each %XX back into its byte and keeps a '%' that is not followed by two hex digits as it is.
// Header-only, std only.
#pragma once
#include <string>
#include <string_view>

namespace arrival::percent {

[[nodiscard]] inline std::string encode_segment(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    static constexpr std::string_view kept_punctuation = "-._~!$&'()*+,;=:@";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool kept = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          kept_punctuation.find(ch) != std::string_view::npos;
        if (kept) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

[[nodiscard]] inline std::string decode(std::string_view s) {
    const auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int h = value(s[i + 1]), l = value(s[i + 2]);
            if (h >= 0 && l >= 0) {
                out += static_cast<char>(h * 16 + l);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

}  // namespace arrival::percent
