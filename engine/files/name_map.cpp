#include "engine/files/name_map.hpp"

#include <cstdint>
#include <vector>

namespace arrival::files {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (overlongs, surrogates and > U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

// Cuts `name` (valid UTF-8) to at most `max` units - characters, or bytes - on a character boundary, keeping an
// extension of up to 16 bytes.
std::string shorten(const std::string& name, std::size_t max, bool count_chars) {
    auto units = [&](std::string_view s) {
        if (!count_chars) return s.size();
        std::size_t n = 0;
        for (unsigned char c : s) n += (c & 0xc0) != 0x80 ? 1 : 0;
        return n;
    };
    if (units(name) <= max) return name;
    const auto dot = name.rfind('.');
    const std::string ext = dot != std::string::npos && dot > 0 && name.size() - dot <= 16 ? name.substr(dot) : "";
    const std::string_view stem(name.data(), name.size() - ext.size());
    const auto budget = max - units(ext);
    std::size_t i = 0, used = 0;
    while (i < stem.size()) {
        const auto n = std::max<std::size_t>(1, utf8_length(stem, i));
        const auto unit = count_chars ? 1 : n;
        if (used + unit > budget) break;
        used += unit;
        i += n;
    }
    return std::string(stem.substr(0, i)) + ext;
}

}  // namespace

mapped_name map_name(std::string_view name, dest_kind kind) {
    mapped_name out;
    bool control = false, invalid = false;
    for (std::size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        const auto n = utf8_length(name, i);
        if (n == 0) {
            out.name += '_';
            invalid = true;
            ++i;
        } else if (c < 0x20 || c == 0x7f || c == '/') {
            out.name += '_';
            control = true;
            ++i;
        } else {
            out.name.append(name.substr(i, n));
            i += n;
        }
    }
    std::vector<std::string> why;
    if (control) why.emplace_back("control characters or '/' replaced by '_'");
    if (invalid) why.emplace_back("bytes that are not UTF-8 replaced by '_'");
    if (out.name == "." || out.name == ".." || out.name.empty()) {
        out.name = out.name == ".." ? "__" : "_";
        why.emplace_back("reserved name");
    }
    const auto before = out.name;
    out.name = kind == dest_kind::carbonio ? shorten(out.name, 1024, true) : shorten(out.name, 255, false);
    if (out.name != before) {
        why.emplace_back(kind == dest_kind::carbonio ? "longer than 1024 characters (Carbonio Files' Filename limit)"
                                                     : "longer than 255 bytes");
    }
    for (std::size_t i = 0; i < why.size(); ++i) out.why += (i ? "; " : "") + why[i];
    return out;
}

}  // namespace arrival::files
