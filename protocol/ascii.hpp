// ASCII case, the only case the protocols arrival speaks know: IMAP atoms and flags, HTTP header names,
// LDAP attribute types, iCalendar property names, DNS domains. Never the C locale's tolower(): a process
// under a Turkish locale would fold 'I' to a dotless i and compare "INBOX" unequal to "inbox".
// Header-only, std only: every library and the fuzz build use it.
#pragma once
#include <string>
#include <string_view>

namespace arrival::ascii {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}


}  // namespace arrival::ascii
