// Text files read a line at a time (accounts files, CSV lists, rewrite rules, slapd schema files): LF or CRLF
// ends a line, and a last line without either counts too. Header-only, std only: the fuzz build has it.
#pragma once
#include <string_view>

namespace arrival {

// Removes the first line from `text` and returns it, without its LF or CRLF.
constexpr std::string_view take_line(std::string_view& text) noexcept {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace arrival
