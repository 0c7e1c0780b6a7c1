// What the client knows about the server session (RFC 3501 §3): the connection state, the capabilities
// (replaced, never merged, after STARTTLS and after authentication: RFC 3501 §6.2.1 and §7.2.1 say a client
// must discard what it knew before), and the selected mailbox. Pure data; the connection updates it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::imap {

enum class session_phase : std::uint8_t { not_connected, not_authenticated, authenticated, selected, logout };

class session_state {
public:
    // Replaces the capability list (words as sent; compared case-insensitively).
    void set_capabilities(const std::vector<std::string_view>& caps);
    void clear_capabilities() noexcept { caps_.clear(); }
    [[nodiscard]] bool has(std::string_view cap) const noexcept;           // "LITERAL+", "AUTH=PLAIN"
    [[nodiscard]] const std::vector<std::string>& capabilities() const noexcept { return caps_; }
    // The value of "NAME=value" capabilities, e.g. value_of("APPENDLIMIT") -> "35651584".
    [[nodiscard]] std::optional<std::string_view> value_of(std::string_view name) const noexcept;

    // Extensions the server said it ENABLEd (RFC 5161 ENABLED), e.g. "QRESYNC"; they last for the connection.
    void add_enabled(std::string_view cap) { enabled_.emplace_back(cap); }
    [[nodiscard]] bool is_enabled(std::string_view cap) const noexcept;

    session_phase phase = session_phase::not_connected;
    std::string selected;         // UTF-8 name of the selected mailbox (empty when none)
    bool read_only = false;
    std::uint32_t exists = 0;     // last EXISTS of the selected mailbox

private:
    std::vector<std::string> caps_;
    std::vector<std::string> enabled_;
};

}  // namespace arrival::imap
