// Character classes of the IMAP grammar (RFC 3501 §9), as constexpr predicates with their ABNF.
#pragma once
#include <cstdint>

namespace arrival::imap::detail {

// CTL = %x00-1F / %x7F
constexpr bool is_ctl(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

// list-wildcards = "%" / "*"
constexpr bool is_list_wildcard(unsigned char c) noexcept { return c == '%' || c == '*'; }

// quoted-specials = DQUOTE / "\"
constexpr bool is_quoted_special(unsigned char c) noexcept { return c == '"' || c == '\\'; }

// resp-specials = "]"
// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
constexpr bool is_atom_special(unsigned char c) noexcept {
    return c == '(' || c == ')' || c == '{' || c == ' ' || is_ctl(c) || is_list_wildcard(c) ||
           is_quoted_special(c) || c == ']';
}

// ATOM-CHAR = <any CHAR except atom-specials>; CHAR = %x01-7F
constexpr bool is_atom_char(unsigned char c) noexcept { return c < 0x80 && !is_atom_special(c); }

// ASTRING-CHAR = ATOM-CHAR / resp-specials
constexpr bool is_astring_char(unsigned char c) noexcept { return is_atom_char(c) || c == ']'; }

// list-char = ATOM-CHAR / list-wildcards / resp-specials
constexpr bool is_list_char(unsigned char c) noexcept { return is_astring_char(c) || is_list_wildcard(c); }

constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }

// What the response tokenizer accepts inside an atom. Wider than ATOM-CHAR on purpose: flags ("\Seen", "\*"),
// sequence sets with "*" ("1:*"), "]" and 8-bit bytes occur in real servers' output, and refusing them would
// break a migration over a cosmetic deviation. "(", ")", "{", DQUOTE, SP and CTL still end an atom.
constexpr bool is_lenient_atom_char(unsigned char c) noexcept {
    return !(c == '(' || c == ')' || c == '{' || c == '"' || c == ' ' || is_ctl(c));
}

}  // namespace arrival::imap::detail
