// One parsed server response (RFC 3501 §7), as views into the parser's buffer.
//
//   response        = continue-req / response-data / response-tagged
//   continue-req    = "+" SP (resp-text / base64) CRLF
//   response-tagged = tag SP resp-cond-state CRLF           ; OK / NO / BAD
//   response-data   = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data) CRLF
//
// Status responses (tagged, and untagged OK/NO/BAD/PREAUTH/BYE) are read in Dovecot's "server text" mode: an
// optional [code args] then free text to the end of the line, never parsed as IMAP tokens. Every other untagged
// response is `[number SP] name [SP args]`, with args a flat token sequence where lists are bracketed by
// list_begin/list_end tokens (Redis RESP3 style: no tree, no per-node allocation).
//
// Lifetime: every string_view here points into the parser and is valid only during the handler call that
// received the response.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/ascii.hpp"

namespace arrival::imap {

enum class response_kind : std::uint8_t { tagged, untagged, continuation };

// resp-cond-state / resp-cond-bye / resp-cond-auth; none for data responses and continuations.
enum class response_status : std::uint8_t { none, ok, no, bad, preauth, bye };

enum class token_type : std::uint8_t {
    atom,              // atom, number, flag (\Seen), or section-spec item such as BODY[HEADER.FIELDS (X)]<0>
    quoted,            // quoted string, unescaped (text holds the value)
    literal,           // {n} or ~{n} literal held inline (n <= limits::max_inline_literal)
    streamed_literal,  // literal larger than the inline limit: its bytes went to on_literal_chunk(); size only
    nil,               // NIL
    list_begin,        // "("
    list_end,          // ")"
};

struct token {
    token_type type = token_type::atom;
    bool binary = false;        // literal8 (~{n}, RFC 3516)
    std::string_view text;      // atom/quoted/literal content; empty for the others
    std::uint64_t size = 0;     // literal size (also for streamed_literal)

    // Strings in the astring/nstring sense: quoted, literal (not streamed) or atom.
    [[nodiscard]] bool is_string() const noexcept {
        return type == token_type::quoted || type == token_type::literal || type == token_type::atom;
    }
};

// resp-text-code: "[" name [SP args] "]". args is the raw text (e.g. "38505 3955" for APPENDUID); typed
// readers are in resp_code.hpp.
struct response_code {
    std::string_view name;   // empty when the server sent no code
    std::string_view args;
};

struct response {
    response_kind kind = response_kind::untagged;
    std::string_view tag;                  // tagged only
    response_status status = response_status::none;
    response_code code;                    // status responses only
    std::string_view text;                 // status responses: the human-readable text; continuations: the rest
    std::optional<std::uint32_t> number;   // "* 23 EXISTS" / "* 4 FETCH (...)": 23 / 4
    std::string_view name;                 // data responses: "EXISTS", "FETCH", "LIST", "CAPABILITY" (as sent)
    std::span<const token> args;           // data responses: the tokens after the name

    [[nodiscard]] bool is_status() const noexcept { return status != response_status::none; }
    // ASCII case-insensitive comparison of `name` (IMAP keywords are case-insensitive).
    [[nodiscard]] bool is(std::string_view upper_name) const noexcept;
};

[[nodiscard]] std::string_view to_string(response_status s) noexcept;

// The response re-rendered on one line for error messages ("cannot decode: * LIST (\Noselect) "/" ..."):
// literal payloads shown as {n} only (they may be message data), control bytes escaped as \xNN, cut at
// max_len bytes with "...". Never used for commands, so it cannot leak our credentials.
[[nodiscard]] std::string to_log_string(const response& r, std::size_t max_len = 200);

// ASCII case-insensitive equality, the comparison IMAP uses for every keyword (protocol/ascii.hpp's).
using ascii::iequals;

}  // namespace arrival::imap
