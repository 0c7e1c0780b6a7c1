#include "engine/mail/dedupe_key.hpp"

#include <charconv>

#include <fmt/format.h>

#include "engine/mail/header_meaning.hpp"
#include "protocol/ascii.hpp"

namespace arrival::engine {

namespace {

using u128 = unsigned __int128;

// FNV-1a, 128-bit (http://www.isthe.com/chongo/tech/comp/fnv/): offset basis and prime as published.
constexpr u128 fnv_offset = (static_cast<u128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
constexpr u128 fnv_prime = (static_cast<u128>(0x0000000001000000ULL) << 64) | 0x000000000000013BULL;

struct fnv128 {
    u128 h = fnv_offset;
    void add(std::string_view s) noexcept {
        for (unsigned char c : s) {
            h ^= c;
            h *= fnv_prime;
        }
    }
    // n in decimal, the text fmt::format("{}", n) gives. Not through fmt: its runtime formatter cost ~5,000
    // instructions a call, a fifth of the whole fallback key (callgrind on bench/header_key_bench).
    template <class Integer>
    void add_decimal(Integer n) noexcept {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
        add(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
};

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }


// A Message-ID without comments or quoted strings, which normalize_message_id reads exactly as the address
// grammar would; only the others go through mimetic. Two memchr scans: a per-byte check here made the
// Message-ID path 25-45 % slower than the first release's (perf on bench/header_key_bench).
bool plain_message_id(std::string_view v) noexcept {
    return v.find('(') == std::string_view::npos && v.find('"') == std::string_view::npos;
}

dedupe_key finish(const fnv128& h, dedupe_key_kind kind) {
    dedupe_key k;
    k.kind = kind;
    k.from_message_id = kind == dedupe_key_kind::message_id;
    k.hi = static_cast<std::uint64_t>(h.h >> 64);
    k.lo = static_cast<std::uint64_t>(h.h);
    return k;
}

}  // namespace

std::string dedupe_key::to_string() const {
    return fmt::format("{}{:016x}{:016x}", static_cast<char>(kind), hi, lo);
}

bool find_header_field(std::string_view header, std::string_view name, std::string& value) {
    std::size_t pos = 0;
    while (pos < header.size()) {
        auto eol = header.find('\n', pos);
        if (eol == std::string_view::npos) eol = header.size();
        std::string_view line = header.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) return false;   // end of the header block
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && line.front() != ' ' && line.front() != '\t') {
            auto fname = line.substr(0, colon);
            while (!fname.empty() && (fname.back() == ' ' || fname.back() == '\t')) fname.remove_suffix(1);
            if (ascii::iequals(fname, name)) {
                value.assign(line.substr(colon + 1));
                // Continuation lines (starting with WSP) belong to this field.
                std::size_t next = eol + 1;
                while (next < header.size() && (header[next] == ' ' || header[next] == '\t')) {
                    auto e2 = header.find('\n', next);
                    if (e2 == std::string_view::npos) e2 = header.size();
                    auto cont = header.substr(next, e2 - next);
                    if (!cont.empty() && cont.back() == '\r') cont.remove_suffix(1);
                    value += ' ';
                    value.append(cont);
                    next = e2 + 1;
                }
                return true;
            }
        }
        pos = eol + 1;
    }
    return false;
}

std::string normalize_message_id(std::string_view raw) {
    std::string_view v = raw;
    const auto lt = v.find('<');
    if (lt != std::string_view::npos) {
        const auto gt = v.find('>', lt + 1);
        v = v.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
    }
    std::string id;
    for (char c : v) {
        if (!is_ws(c)) id.push_back(c);
    }
    const auto at = id.rfind('@');
    if (at != std::string::npos) {
        for (std::size_t i = at + 1; i < id.size(); ++i) id[i] = ascii::lower(id[i]);
    }
    return id;
}

dedupe_key compute_dedupe_key_v1(std::string_view header, std::uint64_t size) {
    fnv128 h;
    std::string v;
    std::string id;
    if (find_header_field(header, "Message-ID", v)) id = normalize_message_id(v);
    if (!id.empty()) {
        h.add("M\n");
        h.add(id);
        return finish(h, dedupe_key_kind::message_id);
    }
    h.add("F\n");
    for (std::string_view name : {"Date", "From", "Subject"}) {
        v.clear();
        const bool found = find_header_field(header, name, v);
        h.add(name);
        h.add(found ? ":" : "!");
        h.add(collapse_whitespace(v));
        h.add("\n");
    }
    h.add(fmt::format("{}", size));
    return finish(h, dedupe_key_kind::fallback_v1);
}

namespace {

// The fallback, kept out of line so the Message-ID path stays as small as the first release's.
[[gnu::noinline]] dedupe_key meaning_key(std::string_view header, std::uint64_t size) {
    fnv128 h;
    std::string v;
    // Each field: its meaning after '=', or its collapsed text after '~' when it does not parse, or '!' when
    // the header has none; the markers keep a parsed value from colliding with the same text unparsed.
    h.add("G\n");
    h.add("Date");
    if (!find_header_field(header, "Date", v)) {
        h.add("!");
    } else if (const auto t = date_meaning(v)) {
        h.add("=");
        h.add_decimal(*t);
    } else {
        h.add("~" + collapse_whitespace(v));
    }
    h.add("\nFrom");
    v.clear();
    if (!find_header_field(header, "From", v)) {
        h.add("!");
    } else if (std::string a = address_list_meaning(v); !a.empty()) {
        h.add("=");
        h.add(a);
    } else {
        h.add("~" + collapse_whitespace(v));
    }
    h.add("\nSubject");
    v.clear();
    if (!find_header_field(header, "Subject", v)) {
        h.add("!");
    } else {
        h.add("=");
        h.add(unstructured_meaning(v));
    }
    h.add("\n");
    h.add_decimal(size);
    return finish(h, dedupe_key_kind::fallback);
}

}  // namespace

dedupe_key compute_dedupe_key(std::string_view header, std::uint64_t size) {
    std::string id;
    {
        std::string v;
        if (find_header_field(header, "Message-ID", v)) {
            if (!plain_message_id(v)) id = message_id_meaning(v);
            if (id.empty()) id = normalize_message_id(v);
        }
    }
    if (id.empty()) return meaning_key(header, size);
    fnv128 h;
    h.add("M\n");
    h.add(id);
    return finish(h, dedupe_key_kind::message_id);
}

}  // namespace arrival::engine
