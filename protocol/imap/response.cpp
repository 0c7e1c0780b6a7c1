#include "protocol/imap/response.hpp"

#include "protocol/imap/charclass.hpp"

namespace arrival::imap {

bool response::is(std::string_view upper_name) const noexcept { return iequals(name, upper_name); }

std::string_view to_string(response_status s) noexcept {
    switch (s) {
    case response_status::none: return "";
    case response_status::ok: return "OK";
    case response_status::no: return "NO";
    case response_status::bad: return "BAD";
    case response_status::preauth: return "PREAUTH";
    case response_status::bye: return "BYE";
    }
    return "";
}

std::string to_log_string(const response& r, std::size_t max_len) {
    std::string s;
    auto put = [&](std::string_view t) {
        for (unsigned char c : t) {
            if (c < 0x20 || c == 0x7f) {
                constexpr char hex[] = "0123456789abcdef";
                s += "\\x";
                s += hex[c >> 4];
                s += hex[c & 15];
            } else {
                s += static_cast<char>(c);
            }
        }
    };
    switch (r.kind) {
    case response_kind::continuation: s += '+'; break;
    case response_kind::tagged: put(r.tag); break;
    case response_kind::untagged: s += '*'; break;
    }
    if (r.number) {
        s += ' ';
        s += std::to_string(*r.number);
    }
    if (r.is_status()) {
        s += ' ';
        s += to_string(r.status);
        if (!r.code.name.empty()) {
            s += " [";
            put(r.code.name);
            if (!r.code.args.empty()) {
                s += ' ';
                put(r.code.args);
            }
            s += ']';
        }
    }
    if (!r.name.empty() && !r.is_status()) {
        s += ' ';
        put(r.name);
    }
    bool after_open = false;
    for (const token& t : r.args) {
        if (s.size() > max_len) break;
        if (t.type != token_type::list_end && !after_open) s += ' ';
        after_open = t.type == token_type::list_begin;
        switch (t.type) {
        case token_type::atom: put(t.text); break;
        case token_type::quoted:
            s += '"';
            put(t.text);
            s += '"';
            break;
        case token_type::literal:
        case token_type::streamed_literal:
            // appended piece by piece: GCC 12 -O3 warns (-Wrestrict, a false positive) on "lit" + string
            s += t.binary ? "~{" : "{";
            s += std::to_string(t.size);
            s += '}';
            break;
        case token_type::nil: s += "NIL"; break;
        case token_type::list_begin: s += '('; break;
        case token_type::list_end: s += ')'; break;
        }
    }
    if (!r.text.empty()) {
        s += ' ';
        put(r.text);
    }
    if (s.size() > max_len) {
        s.resize(max_len);
        s += "...";
    }
    return s;
}

}  // namespace arrival::imap
