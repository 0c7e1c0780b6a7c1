#include "protocol/imap/diagnostics.hpp"

#include <fmt/format.h>

namespace arrival::imap {
namespace {

// Server text ends up in terminals and log files: escape control bytes so a hostile server cannot forge lines
// or terminal sequences.
void append_escaped(std::string& out, std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
}

}  // namespace

std::string diagnostics::to_string() const {
    std::string out;
    append_escaped(out, command_);
    const bool server = !server_message_.empty() || !response_code_.empty();
    if (server) {
        if (!out.empty()) out += ": ";
        if (!response_code_.empty()) {
            out += '[';
            append_escaped(out, response_code_);
            out += "] ";
        }
        append_escaped(out, server_message_);
    }
    if (!client_message_.empty()) {
        if (!out.empty()) out += server ? " (" : ": ";
        append_escaped(out, client_message_);
        if (server) out += ')';
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace arrival::imap
